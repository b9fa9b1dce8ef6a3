// SPDX-License-Identifier: Apache-2.0
// The MLmodel file of a LibTorch model: the libtorch flavor and signature, written by
// mlflow::training's MLmodel writer, read back with yaml-cpp.
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
#include "mlflow/training/mlmodel.h"
#include "mlflow/validation.h"

#ifndef MLFLOW_CPP_VERSION
#define MLFLOW_CPP_VERSION "unknown"
#endif
// The Python the project's scripts install MLflow into (empty when the build found none).
#ifndef MLFLOW_CPP_PYTHON_VERSION
#define MLFLOW_CPP_PYTHON_VERSION ""
#endif

namespace mlflow::libtorch {

namespace {

using json = nlohmann::json;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
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
  const bool numeric_start = std::isdigit(static_cast<unsigned char>(s[0])) ||
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
  for (const Field& fld :
       {Field{&lt, "architecture", &where, &f.architecture},
        Field{&lt, "input_dtype", &where, &f.input_dtype},
        Field{&lt, "input_scale", &where, &f.input_scale},
        Field{&lt, "weights_file", &where, &f.weights_file},
        Field{&lt, "libtorch_version", &where, &f.libtorch_version},
        Field{&lt, "mlflow_cpp_version", &where, &f.mlflow_cpp_version},
        Field{&root, "model_id", &top, &info.model_id}, Field{&root, "run_id", &top, &info.run_id},
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

  const YAML::Node norm = lt["input_normalization"];
  if (norm.IsDefined() && !norm.IsNull()) {
    const std::string bad = where + "input_normalization must be a map of 'mean' and 'std' lists";
    if (!norm.IsMap()) return invalid(source, bad);
    for (auto [key, out] : {std::pair{"mean", &f.input_mean}, std::pair{"std", &f.input_std}}) {
      const YAML::Node list = norm[key];
      if (!list.IsSequence()) return invalid(source, bad);
      try {
        for (const auto& v : list) out->push_back(v.as<double>());
      } catch (const YAML::Exception&) {
        return invalid(source, where + "input_normalization." + key + " must hold numbers");
      }
    }
  }

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
  const auto& mean = flavor.input_mean;
  const auto& std_dev = flavor.input_std;
  const auto channels = static_cast<std::size_t>(flavor.input_shape.front());
  if (mean.size() != std_dev.size() ||
      (!mean.empty() && mean.size() != 1 && mean.size() != channels)) {
    return bad(fmt::format(
        "flavors.libtorch.input_normalization: mean ({} values) and std ({} values) must have "
        "the same length, 1 or one per channel ({})",
        mean.size(), std_dev.size(), channels));
  }
  if (std::any_of(std_dev.begin(), std_dev.end(), [](double v) { return !(v > 0); })) {
    return bad("flavors.libtorch.input_normalization.std values must be above 0");
  }
  const std::string& w = flavor.weights_file;
  if (w.empty()) return bad("flavors.libtorch.weights_file is missing or empty");
  Status path = validate_artifact_path(w);
  if (!path.ok()) return bad("flavors.libtorch.weights_file: " + path.message());
  if (w.back() == '/' || w.find('#') != std::string::npos || w == training::kMlmodelFileName ||
      w == std::string("./") + training::kMlmodelFileName) {
    return bad("flavors.libtorch.weights_file '" + w +
               "' must name a file other than MLmodel, without '#'");
  }
  return Status();
}

std::string mlmodel_yaml(const LibtorchFlavor& flavor, const std::string& model_id,
                         const std::string& run_id, const std::string& artifact_path,
                         const ModelExtras& extras) {
  const json config = config_of(flavor);
  json lt = json::object();
  lt["architecture"] = flavor.architecture;
  lt["class_names"] = flavor.class_names;
  // A config that is not an object is kept as text, for the reader's error message.
  lt["config"] = config.is_object() ? config : json(flavor.config_json);
  lt["input_dtype"] = flavor.input_dtype;
  lt["input_shape"] = flavor.input_shape;
  if (!flavor.input_scale.empty()) lt["input_scale"] = flavor.input_scale;
  if (!flavor.input_mean.empty()) {
    lt["input_normalization"] = {{"mean", flavor.input_mean}, {"std", flavor.input_std}};
  }
  lt["libtorch_version"] = flavor.libtorch_version;
  lt["mlflow_cpp_version"] = MLFLOW_CPP_VERSION;
  lt["weights_file"] = flavor.weights_file;
  json flavors = json::object();
  flavors[kLibtorchFlavor] = std::move(lt);
  const OnnxFlavor& onnx = extras.onnx;
  if (!onnx.data.empty()) {
    // As mlflow.onnx.save_model writes them. CPU only: listing CUDA first, as MLflow does, makes
    // every load on a machine without it warn.
    flavors["onnx"] = {{"code", nullptr},
                       {"data", onnx.data},
                       {"onnx_session_options", nullptr},
                       {"onnx_version", onnx.onnx_version},
                       {"providers", {"CPUExecutionProvider"}}};
    json pyfunc = {{"data", onnx.data}, {"loader_module", "mlflow.onnx"}};
    // pyfunc.load_model warns when the Python a model was made for is not recorded.
    if (*MLFLOW_CPP_PYTHON_VERSION) pyfunc["python_version"] = MLFLOW_CPP_PYTHON_VERSION;
    flavors["python_function"] = std::move(pyfunc);
  }

  training::MlmodelSpec spec;
  spec.flavors_json = flavors.dump();
  spec.model_id = model_id;
  spec.run_id = run_id;
  spec.artifact_path = artifact_path;
  spec.input_example = !extras.input_example_json.empty();
  std::vector<std::int64_t> in_shape{-1};
  in_shape.insert(in_shape.end(), flavor.input_shape.begin(), flavor.input_shape.end());
  spec.signature_inputs = training::TensorSpec{flavor.input_dtype, in_shape};
  if (const std::int64_t classes = num_classes(flavor, config); classes > 0) {
    spec.signature_outputs = training::TensorSpec{"float32", {-1, classes}};
  }
  auto text = training::mlmodel_yaml(spec);
  return text.ok() ? *text : std::string();  // flavors is an object: cannot fail
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
