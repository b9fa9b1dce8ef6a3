// SPDX-License-Identifier: Apache-2.0
// The MLmodel file as MLflow 3's Model.to_yaml lays it out (PyYAML safe_dump, keys sorted).
//
// The reader on the other side is PyYAML (YAML 1.1), so every free-text string that a 1.1 or 1.2
// resolver could take for something else (numbers, yes/no/on/off, null, leading digits) is quoted,
// and floats always carry a '.' (PyYAML reads "1e-05" as a string).
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <iterator>
#include <nlohmann/json.hpp>

#include "mlflow/ascii.h"
#include "mlflow/training/mlmodel.h"

namespace mlflow::training {
namespace {

using json = nlohmann::json;

/// True when `s` can be a plain scalar that every YAML resolver reads back as this string.
bool plain_safe(const std::string& s) {
  if (s.empty()) return false;
  const auto first = static_cast<unsigned char>(s.front());
  if (!std::isalpha(first) && first != '_') return false;
  for (unsigned char c : s) {
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '.' && c != '/') return false;
  }
  static const char* const kWords[] = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"};
  const std::string l = ascii_lower(s);
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
  if (t.find('.') != std::string::npos) return t;
  auto e = t.find_first_of("eE");
  if (e == std::string::npos) return t + ".0";
  return t.substr(0, e) + ".0" + t.substr(e);
}

void emit_json(YAML::Emitter& out, const json& j) {
  switch (j.type()) {
    case json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, value] : j.items()) {  // std::map: sorted, as safe_dump sorts
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

/// One MLflow tensor spec as Schema.to_json writes it: key order and json.dumps' separators.
std::string tensor_spec_json(const TensorSpec& t) {
  nlohmann::ordered_json spec = nlohmann::ordered_json::array(
      {{{"type", "tensor"}, {"tensor-spec", {{"dtype", t.dtype}, {"shape", t.shape}}}}});
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

/// "YYYY-MM-DD HH:MM:SS.ffffff" in UTC, as str(datetime.now(timezone.utc).replace(tzinfo=None)).
std::string utc_now_text() {
  const auto now = std::chrono::system_clock::now();
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const auto secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return fmt::format("{}.{:06d}", buf, static_cast<int>(us % 1000000));
}

void emit_key_string(YAML::Emitter& out, const char* key, const std::string& value) {
  out << YAML::Key << key << YAML::Value;
  emit_string(out, value);
}

void emit_tensor(YAML::Emitter& out, const char* key, const std::optional<TensorSpec>& t) {
  out << YAML::Key << key << YAML::Value;
  if (t) {
    out << YAML::SingleQuoted << tensor_spec_json(*t);
  } else {
    out << YAML::Null;
  }
}

}  // namespace

StatusOr<std::string> mlmodel_yaml(const MlmodelSpec& spec) {
  const json flavors = json::parse(spec.flavors_json, nullptr, /*allow_exceptions=*/false);
  if (!flavors.is_object()) {
    return Status(StatusCode::kInvalidArgument,
                  "MLmodel flavors must be a JSON object, not '" + spec.flavors_json + "'");
  }
  YAML::Emitter out;
  out << YAML::BeginMap;
  if (!spec.artifact_path.empty()) emit_key_string(out, "artifact_path", spec.artifact_path);
  out << YAML::Key << "flavors" << YAML::Value;
  emit_json(out, flavors);
  out << YAML::Key << "is_signature_from_type_hint" << YAML::Value << false;
  emit_key_string(out, "mlflow_version", kMlmodelFormatVersion);
  if (!spec.model_id.empty()) {
    emit_key_string(out, "model_id", spec.model_id);
    emit_key_string(out, "model_uuid", spec.model_id);
  }
  if (!spec.run_id.empty()) emit_key_string(out, "run_id", spec.run_id);
  if (spec.input_example) {
    out << YAML::Key << "saved_input_example_info" << YAML::Value << YAML::BeginMap;
    emit_key_string(out, "artifact_path", kInputExampleFileName);
    emit_key_string(out, "serving_input_path", kServingInputExampleFileName);
    emit_key_string(out, "type", "ndarray");
    out << YAML::EndMap;
  }
  out << YAML::Key << "signature" << YAML::Value << YAML::BeginMap;
  emit_tensor(out, "inputs", spec.signature_inputs);
  emit_tensor(out, "outputs", spec.signature_outputs);
  out << YAML::Key << "params" << YAML::Value << YAML::Null;
  out << YAML::EndMap;
  out << YAML::Key << "type_hint_from_example" << YAML::Value << false;
  out << YAML::Key << "utc_time_created" << YAML::Value << YAML::SingleQuoted << utc_now_text();
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

StatusOr<std::vector<ModelFile>> ndarray_input_example_files(const std::string& array_json) {
  const json array = json::parse(array_json, nullptr, /*allow_exceptions=*/false);
  if (!array.is_array()) {
    return Status(StatusCode::kInvalidArgument, "an ndarray input example must be a JSON array");
  }
  return std::vector<ModelFile>{{kInputExampleFileName, array.dump()},
                                {kServingInputExampleFileName, json{{"inputs", array}}.dump(2)}};
}

}  // namespace mlflow::training
