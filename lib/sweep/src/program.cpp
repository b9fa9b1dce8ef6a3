// SPDX-License-Identifier: Apache-2.0
#include "mlflow/sweep/program.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mlflow::sweep {

namespace {

using Type = ParamDef::Type;

const std::vector<std::pair<std::string, Type>>& type_names() {
  static const std::vector<std::pair<std::string, Type>> names = {{"int", Type::kInt},
                                                                  {"float", Type::kFloat},
                                                                  {"bool", Type::kBool},
                                                                  {"string", Type::kString},
                                                                  {"choice", Type::kChoice}};
  return names;
}

// The words the trainers' config parsers take for booleans.
bool is_boolean(const std::string& v) {
  for (const char* w : {"true", "True", "yes", "1", "false", "False", "no", "0"}) {
    if (v == w) return true;
  }
  return false;
}

std::string bound(double d) { return fmt::format("{}", d); }

}  // namespace

std::string ParamDef::allowed() const {
  switch (type) {
    case Type::kBool:
      return "true or false";
    case Type::kString:
      return "text";
    case Type::kChoice:
      return fmt::format("one of {}", fmt::join(choices, ", "));
    case Type::kInt:
    case Type::kFloat:
      break;
  }
  std::string kind = type == Type::kInt ? "an integer" : "a number";  // not const: moved out
  if (!min && !max) return kind;
  if (min && max) {
    return fmt::format("{} in {}{}, {}{}", kind, min_exclusive ? "(" : "[", bound(*min),
                       bound(*max), max_exclusive ? ")" : "]");
  }
  if (min) return fmt::format("{} {} {}", kind, min_exclusive ? ">" : ">=", bound(*min));
  return fmt::format("{} {} {}", kind, max_exclusive ? "<" : "<=", bound(*max));
}

std::optional<std::string> ParamDef::problem(const std::string& value) const {
  switch (type) {
    case Type::kString:
      return std::nullopt;
    case Type::kBool:
      if (is_boolean(value)) return std::nullopt;
      return "not a boolean";
    case Type::kChoice:
      for (const auto& c : choices) {
        if (c == value) return std::nullopt;
      }
      return "not a known value";
    case Type::kInt:
    case Type::kFloat:
      break;
  }
  char* end = nullptr;
  errno = 0;
  double d = 0;
  if (type == Type::kInt) {
    d = static_cast<double>(std::strtoll(value.c_str(), &end, 10));
  } else {
    d = std::strtod(value.c_str(), &end);
  }
  if (value.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(d)) {
    return type == Type::kInt ? "not an integer" : "not a number";
  }
  if (min && (d < *min || (min_exclusive && d == *min))) return "out of range";
  if (max && (d > *max || (max_exclusive && d == *max))) return "out of range";
  return std::nullopt;
}

const ParamDef* ParamSchema::find(const std::string& name) const {
  for (const auto& p : params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

StatusOr<ParamSchema> parse_param_schema(const std::string& json, const std::string& source) {
  auto bad = [&](const std::string& what) {
    return Status(
        StatusCode::kInvalidArgument,
        fmt::format("{}: not a parameter description ({}); see sweeps/README.md, 'Programs'",
                    source, what));
  };
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad("not valid JSON");
  if (!doc.is_object() || !doc.contains("parameters") || !doc["parameters"].is_array()) {
    return bad("expected an object with a 'parameters' list");
  }
  ParamSchema schema;
  if (doc.contains("other_parameters")) {
    if (!doc["other_parameters"].is_boolean())
      return bad("'other_parameters' must be true or false");
    schema.other_parameters = doc["other_parameters"].get<bool>();
  }
  for (const auto& item : doc["parameters"]) {
    if (!item.is_object() || !item.contains("name") || !item["name"].is_string() ||
        !item.contains("type") || !item["type"].is_string()) {
      return bad("every parameter needs a 'name' and a 'type'");
    }
    ParamDef p;
    p.name = item["name"].get<std::string>();
    const std::string type = item["type"].get<std::string>();
    bool known = false;
    for (const auto& [n, t] : type_names()) {
      if (n == type) {
        p.type = t;
        known = true;
      }
    }
    if (!known) {
      return bad(fmt::format("parameter '{}': type '{}' is not int, float, bool, string or choice",
                             p.name, type));
    }
    for (const char* key : {"min", "max"}) {
      if (!item.contains(key)) continue;
      if (!item[key].is_number())
        return bad(fmt::format("parameter '{}': '{}' must be a number", p.name, key));
      (key[1] == 'i' ? p.min : p.max) = item[key].get<double>();
    }
    p.min_exclusive = item.value("min_exclusive", false);
    p.max_exclusive = item.value("max_exclusive", false);
    p.required = item.value("required", false);
    p.help = item.value("help", "");
    if (item.contains("default")) {
      const auto& d = item["default"];
      p.default_value = d.is_string() ? d.get<std::string>() : d.dump();
    }
    if (item.contains("choices")) {
      if (!item["choices"].is_array())
        return bad(fmt::format("parameter '{}': 'choices' must be a list", p.name));
      for (const auto& c : item["choices"]) {
        if (!c.is_string())
          return bad(fmt::format("parameter '{}': choices must be strings", p.name));
        p.choices.push_back(c.get<std::string>());
      }
    }
    if (p.type == Type::kChoice && p.choices.empty()) {
      return bad(fmt::format("parameter '{}': type choice needs 'choices'", p.name));
    }
    if (schema.find(p.name) != nullptr)
      return bad(fmt::format("parameter '{}' is listed twice", p.name));
    schema.params.push_back(std::move(p));
  }
  return schema;
}

std::vector<std::string> ProgramDef::command() const {
  std::vector<std::string> argv = {executable};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::vector<std::string> ProgramDef::trial_command(
    const std::vector<std::pair<std::string, std::string>>& params, const std::string& experiment,
    int threads) const {
  std::vector<std::string> argv = command();
  auto pass = [&](const std::string& k, const std::string& v) {
    if (style == ParamStyle::kEquals) {
      argv.push_back("--" + k + "=" + v);
    } else {
      argv.insert(argv.end(), {"--" + k, v});
    }
  };
  auto given = [&](const std::string& k) {
    for (const auto& p : params) {
      if (p.first == k) return true;
    }
    return false;
  };
  for (const auto& [k, v] : defaults) {
    if (!given(k)) pass(k, v);
  }
  if (!experiment_param.empty()) pass(experiment_param, experiment);
  for (const auto& [k, v] : params) pass(k, v);
  if (!threads_param.empty() && !given(threads_param)) pass(threads_param, std::to_string(threads));
  return argv;
}

void ProgramTable::add(ProgramDef def) {
  std::string name = def.name;
  programs_[name] = std::move(def);
}

const ProgramDef* ProgramTable::find(const std::string& name) const {
  auto it = programs_.find(name);
  return it == programs_.end() ? nullptr : &it->second;
}

std::vector<std::string> ProgramTable::names() const {
  std::vector<std::string> out;
  for (const auto& [name, def] : programs_) out.push_back(name);
  return out;
}

}  // namespace mlflow::sweep
