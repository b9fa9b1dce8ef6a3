// SPDX-License-Identifier: Apache-2.0
// The MLmodel file of a LibTorch model: written as MLflow 3's Model.to_yaml lays it out (PyYAML
// safe_dump, keys sorted), read back with yaml-cpp.
//
// The reader on the other side is PyYAML (YAML 1.1), so every free-text string that a 1.1 or 1.2
// resolver could take for something else (numbers, yes/no/on/off, null, leading digits) is quoted,
// and floats always carry a '.' (PyYAML reads "1e-05" as a string).
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "mlflow/libtorch/model_store.h"
#include "mlflow/validation.h"

#ifndef MLFLOW_CPP_VERSION
#define MLFLOW_CPP_VERSION "unknown"
#endif

namespace mlflow::libtorch {

namespace {

using json = nlohmann::json;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// True when `s` can be a plain scalar that every YAML resolver reads back as this string.
bool plain_safe(const std::string& s) {
  if (s.empty()) return false;
  const unsigned char first = static_cast<unsigned char>(s.front());
  if (!std::isalpha(first) && first != '_') return false;
  for (unsigned char c : s) {
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '.' && c != '/') return false;
  }
  static const char* const kWords[] = {"y",   "n",  "yes", "no",    "on",
                                       "off", "true", "false", "null"};
  const std::string l = lower(s);
  return std::none_of(std::begin(kWords), std::end(kWords), [&](const char* w) { return l == w; });
}

void emit_string(YAML::Emitter& out, const std::string& s) {
  if (plain_safe(s)) {
    out << s;
  } else {
    out << YAML::DoubleQuoted << s;
  }
}

/// nlohmann's shortest round-trip text of a double, with the '.' YAML 1.1 needs ("1e-05" ->
/// "1.0e-05").
std::string float_text(const json& number) {
  std::string t = number.dump();
  if (t.find_first_of(".") != std::string::npos) return t;
  auto e = t.find_first_of("eE");
  if (e == std::string::npos) return t + ".0";
  return t.substr(0, e) + ".0" + t.substr(e);
}

void emit_json(YAML::Emitter& out, const json& j) {
  switch (j.type()) {
    case json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, value] : j.items()) {
        out << YAML::Key;
        emit_string(out, key);
        out << YAML::Value;
        emit_json(out, value);
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& value : j) emit_json(out, value);
      out << YAML::EndSeq;
      break;
    case json::value_t::string:
      emit_string(out, j.get<std::string>());
      break;
    case json::value_t::boolean:
      out << (j.get<bool>() ? "true" : "false");
      break;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      out << j.dump();
      break;
    case json::value_t::number_float:
      out << float_text(j);
      break;
    default:
      out << YAML::Null;
      break;
  }
}

/// One MLflow tensor spec as Schema.to_json writes it.
std::string tensor_spec_json(const std::string& dtype, const std::vector<std::int64_t>& shape) {
  // Key order and json.dumps' default separators as MLflow writes them.
  nlohmann::ordered_json spec = nlohmann::ordered_json::array(
      {{{"type", "tensor"}, {"tensor-spec", {{"dtype", dtype}, {"shape", shape}}}}});
  std::string compact = spec.dump();
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < compact.size(); ++i) {
    const char c = compact[i];
    out += c;
    if (c == '"' && (i == 0 || compact[i - 1] != '\\')) in_string = !in_string;
    if (!in_string && (c == ',' || c == ':')) out += ' ';
  }
  return out;
}

/// Number of classes: class_names, else config.num_classes; 0 when unknown.
std::int64_t num_classes(const LibtorchFlavor& flavor, const json& config) {
  if (!flavor.class_names.empty()) return static_cast<std::int64_t>(flavor.class_names.size());
  if (config.is_object()) {
    auto it = config.find("num_classes");
    if (it != config.end() && it->is_number_integer()) return it->get<std::int64_t>();
  }
  return 0;
}

/// "YYYY-MM-DD HH:MM:SS.ffffff" in UTC, as str(datetime.now(timezone.utc).replace(tzinfo=None)).
std::string utc_now_text() {
  const auto now = std::chrono::system_clock::now();
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return fmt::format("{}.{:06d}", buf, static_cast<int>(us % 1000000));
}

json config_of(const LibtorchFlavor& flavor) {
  if (flavor.config_json.empty()) return json::object();
  return json::parse(flavor.config_json, nullptr, /*allow_exceptions=*/false);
}

Status invalid(const std::string& source, const std::string& what) {
  return Status(StatusCode::kInvalidArgument, fmt::format("MLmodel '{}': {}", source, what));
}

// ---- reading ---------------------------------------------------------------------------------

/// A scalar as JSON, resolved as YAML's core schema does; quoted scalars (tag "!") stay strings.
json scalar_to_json(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;
  const std::string l = lower(s);
  if (s.empty() || s == "~" || l == "null") return nullptr;
  if (l == "true") return true;
  if (l == "false") return false;
  const bool numeric_start =
      std::isdigit(static_cast<unsigned char>(s[0])) ||
      ((s[0] == '-' || s[0] == '+' || s[0] == '.') && s.size() > 1 &&
       (std::isdigit(static_cast<unsigned char>(s[1])) || s[1] == '.'));
  if (numeric_start && s.find_first_of("xXnNiI") == std::string::npos) {
    char* end = nullptr;
    errno = 0;
    const long long i = std::strtoll(s.c_str(), &end, 10);
    if (end && *end == '\0' && errno == 0) return static_cast<std::int64_t>(i);
    errno = 0;
    const double d = std::strtod(s.c_str(), &end);
    if (end && *end == '\0' && errno == 0) return d;
  }
  return s;
}

StatusOr<json> node_to_json(const YAML::Node& n, const std::string& where,
                            const std::string& source) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) return invalid(source, where + " has a key that is not a string");
        auto v = node_to_json(kv.second, where + "." + kv.first.Scalar(), source);
        if (!v.ok()) return v.status();
        obj[kv.first.Scalar()] = std::move(*v);
      }
      return obj;
    }
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      size_t i = 0;
      for (const auto& item : n) {
        auto v = node_to_json(item, fmt::format("{}[{}]", where, i++), source);
        if (!v.ok()) return v.status();
        arr.push_back(std::move(*v));
      }
      return arr;
    }
    case YAML::NodeType::Scalar:
      return scalar_to_json(n);
    default:
      return json(nullptr);
  }
}

/// An optional scalar field of `map` as text; kInvalidArgument when it is a list or map.
StatusOr<std::string> scalar_field(const YAML::Node& map, const char* key, const std::string& where,
                                   const std::string& source) {
  const YAML::Node n = map[key];
  if (!n.IsDefined() || n.IsNull()) return std::string();
  if (!n.IsScalar()) return invalid(source, fmt::format("{}{} must be a string", where, key));
  return n.Scalar();
}

StatusOr<std::vector<std::int64_t>> parse_shape(const YAML::Node& n, const std::string& source) {
  const char* field = "flavors.libtorch.input_shape";
  if (!n.IsDefined() || n.IsNull()) return invalid(source, std::string(field) + " is missing");
  if (!n.IsSequence() || n.size() == 0) {
    return invalid(source, std::string(field) + " must be a non-empty list of positive integers");
  }
  std::vector<std::int64_t> shape;
  std::string text;
  bool ok = true;
  for (const auto& d : n) {
    json v = d.IsScalar() ? scalar_to_json(d) : json();
    text += (text.empty() ? "" : ", ") + (d.IsScalar() ? d.Scalar() : std::string("<list or map>"));
    if (!v.is_number_integer() || v.get<std::int64_t>() <= 0) {
      ok = false;
    } else {
      shape.push_back(v.get<std::int64_t>());
    }
  }
  if (!ok) {
    return invalid(source,
                   fmt::format("{} must be a list of positive integers, not [{}]", field, text));
  }
  return shape;
}

StatusOr<MlmodelInfo> parse_document(const YAML::Node& root, const std::string& source) {
  if (!root.IsMap()) return invalid(source, "not a YAML mapping");
  const YAML::Node flavors = root["flavors"];
  if (!flavors.IsDefined() || !flavors.IsMap()) return invalid(source, "no 'flavors' map");
  const YAML::Node lt = flavors[kLibtorchFlavor];
  if (!lt.IsDefined() || !lt.IsMap()) {
    std::string names;
    for (const auto& kv : flavors) {
      names += (names.empty() ? "" : ", ") + kv.first.as<std::string>();
    }
    return invalid(source, fmt::format("not a LibTorch model: no flavors.{} (flavors: {})",
                                       kLibtorchFlavor, names.empty() ? "none" : names));
  }
  MlmodelInfo info;
  LibtorchFlavor& f = info.flavor;
  const std::string where = "flavors.libtorch.";
  struct Field {
    const YAML::Node* map;
    const char* key;
    const std::string* where;
    std::string* out;
  };
  const std::string top;
  for (const Field& fld : {Field{&lt, "architecture", &where, &f.architecture},
                           Field{&lt, "input_dtype", &where, &f.input_dtype},
                           Field{&lt, "weights_file", &where, &f.weights_file},
                           Field{&lt, "libtorch_version", &where, &f.libtorch_version},
                           Field{&lt, "mlflow_cpp_version", &where, &f.mlflow_cpp_version},
                           Field{&root, "model_id", &top, &info.model_id},
                           Field{&root, "run_id", &top, &info.run_id},
                           Field{&root, "artifact_path", &top, &info.artifact_path},
                           Field{&root, "mlflow_version", &top, &info.mlflow_version},
                           Field{&root, "utc_time_created", &top, &info.utc_time_created}}) {
    auto v = scalar_field(*fld.map, fld.key, *fld.where, source);
    if (!v.ok()) return v.status();
    *fld.out = std::move(*v);
  }
  if (f.input_dtype.empty()) f.input_dtype = "float32";

  const YAML::Node config = lt["config"];
  if (!config.IsDefined() || config.IsNull()) {
    f.config_json = "{}";
  } else if (!config.IsMap()) {
    return invalid(source, where + "config must be a map");
  } else {
    auto j = node_to_json(config, where + "config", source);
    if (!j.ok()) return j.status();
    f.config_json = j->dump();
  }

  auto shape = parse_shape(lt["input_shape"], source);
  if (!shape.ok()) return shape.status();
  f.input_shape = std::move(*shape);

  f.class_names.clear();
  const YAML::Node classes = lt["class_names"];
  if (classes.IsDefined() && !classes.IsNull()) {
    const std::string bad = where + "class_names must be a list of strings";
    if (!classes.IsSequence()) return invalid(source, bad);
    for (const auto& c : classes) {
      if (!c.IsScalar()) return invalid(source, bad);
      f.class_names.push_back(c.Scalar());
    }
  }

  Status valid = validate_flavor(f);
  if (!valid.ok()) return invalid(source, valid.message());
  return info;
}

}  // namespace

Status validate_flavor(const LibtorchFlavor& flavor) {
  auto bad = [](const std::string& what) { return Status(StatusCode::kInvalidArgument, what); };
  if (flavor.architecture.empty()) return bad("flavors.libtorch.architecture is missing or empty");
  if (!config_of(flavor).is_object()) {
    return bad("flavors.libtorch.config must be a JSON object, not '" + flavor.config_json + "'");
  }
  if (flavor.input_shape.empty() ||
      std::any_of(flavor.input_shape.begin(), flavor.input_shape.end(),
                  [](std::int64_t d) { return d <= 0; })) {
    return bad("flavors.libtorch.input_shape must be a non-empty list of positive integers");
  }
  if (flavor.input_dtype.empty()) return bad("flavors.libtorch.input_dtype is empty");
  const std::string& w = flavor.weights_file;
  if (w.empty()) return bad("flavors.libtorch.weights_file is missing or empty");
  Status path = validate_artifact_path(w);
  if (!path.ok()) return bad("flavors.libtorch.weights_file: " + path.message());
  if (w.back() == '/' || w.find('#') != std::string::npos || w == kMlmodelFileName ||
      w == std::string("./") + kMlmodelFileName) {
    return bad("flavors.libtorch.weights_file '" + w +
               "' must name a file other than MLmodel, without '#'");
  }
  return Status();
}

std::string mlmodel_yaml(const LibtorchFlavor& flavor, const std::string& model_id,
                         const std::string& run_id, const std::string& artifact_path) {
  const json config = config_of(flavor);
  std::vector<std::int64_t> in_shape{-1};
  in_shape.insert(in_shape.end(), flavor.input_shape.begin(), flavor.input_shape.end());
  const std::int64_t classes = num_classes(flavor, config);

  YAML::Emitter out;
  out << YAML::BeginMap;
  if (!artifact_path.empty()) {
    out << YAML::Key << "artifact_path" << YAML::Value;
    emit_string(out, artifact_path);
  }

  out << YAML::Key << "flavors" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << kLibtorchFlavor << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "architecture" << YAML::Value;
  emit_string(out, flavor.architecture);
  out << YAML::Key << "class_names" << YAML::Value << YAML::BeginSeq;
  for (const auto& c : flavor.class_names) emit_string(out, c);
  out << YAML::EndSeq;
  out << YAML::Key << "config" << YAML::Value;
  if (config.is_object()) {
    emit_json(out, config);
  } else {
    out << YAML::DoubleQuoted << flavor.config_json;  // kept for the reader's error message
  }
  out << YAML::Key << "input_dtype" << YAML::Value;
  emit_string(out, flavor.input_dtype);
  out << YAML::Key << "input_shape" << YAML::Value << YAML::BeginSeq;
  for (auto d : flavor.input_shape) out << d;
  out << YAML::EndSeq;
  out << YAML::Key << "libtorch_version" << YAML::Value;
  emit_string(out, flavor.libtorch_version);
  out << YAML::Key << "mlflow_cpp_version" << YAML::Value;
  emit_string(out, MLFLOW_CPP_VERSION);
  out << YAML::Key << "weights_file" << YAML::Value;
  emit_string(out, flavor.weights_file);
  out << YAML::EndMap << YAML::EndMap;

  out << YAML::Key << "is_signature_from_type_hint" << YAML::Value << false;
  out << YAML::Key << "mlflow_version" << YAML::Value;
  emit_string(out, kMlmodelFormatVersion);
  if (!model_id.empty()) {
    out << YAML::Key << "model_id" << YAML::Value;
    emit_string(out, model_id);
    out << YAML::Key << "model_uuid" << YAML::Value;
    emit_string(out, model_id);
  }
  if (!run_id.empty()) {
    out << YAML::Key << "run_id" << YAML::Value;
    emit_string(out, run_id);
  }
  out << YAML::Key << "signature" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "inputs" << YAML::Value << YAML::SingleQuoted
      << tensor_spec_json(flavor.input_dtype, in_shape);
  out << YAML::Key << "outputs" << YAML::Value;
  if (classes > 0) {
    out << YAML::SingleQuoted << tensor_spec_json("float32", {-1, classes});
  } else {
    out << YAML::Null;
  }
  out << YAML::Key << "params" << YAML::Value << YAML::Null;
  out << YAML::EndMap;
  out << YAML::Key << "type_hint_from_example" << YAML::Value << false;
  out << YAML::Key << "utc_time_created" << YAML::Value << YAML::SingleQuoted << utc_now_text();
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

StatusOr<MlmodelInfo> parse_mlmodel_info(const std::string& yaml_text, const std::string& source) {
  try {
    return parse_document(YAML::Load(yaml_text), source);
  } catch (const YAML::Exception& e) {
    return invalid(source, std::string("not valid YAML: ") + e.what());
  }
}

StatusOr<LibtorchFlavor> parse_mlmodel(const std::string& yaml_text, const std::string& source) {
  auto info = parse_mlmodel_info(yaml_text, source);
  if (!info.ok()) return info.status();
  return std::move(info->flavor);
}

}  // namespace mlflow::libtorch
