// SPDX-License-Identifier: Apache-2.0
#include "mlflow/sweep/spec.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "mlflow/sweep/fingerprint.h"
#include "mlflow/validation.h"

namespace mlflow::sweep {

namespace fs = std::filesystem;

std::string SourceLocation::to_string() const {
  if (line <= 0) return file;
  return fmt::format("{}:{}:{}", file, line, column);
}

namespace {

// A spec error: thrown inside the parser only, turned into a Status at the boundary.
struct SpecError {
  SourceLocation where;
  std::string message;
};

class Parser {
 public:
  Parser(std::string file, const ProgramTable& programs)
      : file_(std::move(file)), programs_(programs) {}

  SourceLocation at(const YAML::Node& node) const {
    const YAML::Mark m = node.Mark();
    return {file_, m.line + 1, m.column + 1};
  }
  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    throw SpecError{at(node), message};
  }

  // A map whose keys must all be in `allowed`.
  void expect_map(const YAML::Node& node, const std::string& what,
                  const std::set<std::string>& allowed) const {
    if (!node.IsMap()) fail(node, fmt::format("{} must be a mapping of keys to values", what));
    unique_keys(node, what);
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      if (!allowed.count(key)) {
        fail(kv.first, fmt::format("unknown key '{}' in {}; expected one of: {}", key, what,
                                   fmt::join(allowed.begin(), allowed.end(), ", ")));
      }
    }
  }
  // yaml-cpp keeps both entries of a repeated key; lookups would silently see only the first.
  void unique_keys(const YAML::Node& map, const std::string& what) const {
    std::set<std::string> seen;
    for (const auto& kv : map) {
      const std::string& key = kv.first.Scalar();
      if (!seen.insert(key).second)
        fail(kv.first, fmt::format("key '{}' appears twice in {}", key, what));
    }
  }
  std::string scalar(const YAML::Node& node, const std::string& what) const {
    if (!node.IsScalar())
      fail(node, fmt::format("{} must be a single value (a string, number or boolean)", what));
    return node.Scalar();
  }
  std::string name_like(const YAML::Node& node, const std::string& what) const {
    std::string s = scalar(node, what);
    const bool ok = !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '_' || c == '-' || c == '.';
    });
    if (!ok) fail(node, fmt::format("{} '{}' must be letters, digits, '_', '-' or '.'", what, s));
    return s;
  }
  long long integer(const YAML::Node& node, const std::string& what, long long min) const {
    const std::string s = scalar(node, what);
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno != 0)
      fail(node, fmt::format("{} must be an integer, not '{}'", what, s));
    if (v < min) fail(node, fmt::format("{} must be at least {}, not {}", what, min, v));
    return v;
  }
  bool boolean(const YAML::Node& node, const std::string& what) const {
    const std::string s = scalar(node, what);
    if (s == "true" || s == "True" || s == "yes") return true;
    if (s == "false" || s == "False" || s == "no") return false;
    fail(node, fmt::format("{} must be true or false, not '{}'", what, s));
  }

  ParameterSpec parameter(const std::string& name, const YAML::Node& node) const {
    ParameterSpec p;
    p.name = name;
    p.where = at(node);
    p.name_where = p.where;
    const std::string what = fmt::format("parameter '{}'", name);
    if (!node.IsMap() || node.size() == 0) {
      fail(node,
           what + " must be {value: V}, {values: [V, ...]}, {path: FILE} or {from_sweep: NAME}");
    }
    expect_map(node, what, {"value", "values", "path", "from_sweep", "parameter"});
    const int kinds = (node["value"] ? 1 : 0) + (node["values"] ? 1 : 0) + (node["path"] ? 1 : 0) +
                      (node["from_sweep"] ? 1 : 0);
    if (kinds != 1) fail(node, what + " needs exactly one of value, values, path or from_sweep");
    if (node["parameter"] && !node["from_sweep"])
      fail(node["parameter"], "'parameter' is only allowed with from_sweep");
    if (const auto v = node["value"]) {
      p.kind = ParameterKind::kValue;
      p.values.push_back(scalar(v, what + " value"));
      p.value_where.push_back(at(v));
    } else if (const auto path = node["path"]) {
      p.kind = ParameterKind::kValue;
      p.written_path = scalar(path, what + " path");
      p.values.push_back(resolve_path(path, p.written_path, what));
      p.value_where.push_back(at(path));
    } else if (const auto vs = node["values"]) {
      p.kind = ParameterKind::kValues;
      if (!vs.IsSequence()) fail(vs, what + " values must be a list, e.g. [32, 64, 128]");
      if (vs.size() == 0) fail(vs, what + " values must not be empty");
      std::set<std::string> seen;
      for (const auto& item : vs) {
        std::string s = scalar(item, what + " values entry");
        if (!seen.insert(s).second) fail(item, fmt::format("{} lists '{}' twice", what, s));
        p.values.push_back(std::move(s));
        p.value_where.push_back(at(item));
      }
    } else {
      p.kind = ParameterKind::kFromSweep;
      p.from_sweep = name_like(node["from_sweep"], what + " from_sweep");
      p.from_parameter =
          node["parameter"] ? name_like(node["parameter"], what + " parameter") : name;
    }
    return p;
  }

  ProgramSpec program(const YAML::Node& node) const {
    ProgramSpec p;
    p.where = at(node);
    std::vector<std::string> words;
    if (node.IsScalar()) {
      words.push_back(node.Scalar());
    } else if (node.IsSequence() && node.size() > 0) {
      for (const auto& w : node) words.push_back(scalar(w, "program list entry"));
    } else {
      fail(node, fmt::format("program must be {}an executable, or a list [executable, args...]",
                             known_programs()));
    }
    p.written = words;
    if (words.size() == 1) {
      if (const ProgramDef* def = programs_.find(words[0])) return named(*def, p);
    }
    p.def.executable = resolve_executable(node, words[0]);
    p.def.args.assign(words.begin() + 1, words.end());
    return p;
  }

  static ProgramSpec named(const ProgramDef& def, ProgramSpec p) {
    p.name = def.name;
    p.def = def;
    return p;
  }

  // "fmnist_train, fmnist_pretrain, " (the table's programs) or "".
  std::string known_programs() const {
    std::string out;
    for (const auto& n : programs_.names()) out += n + ", ";
    return out;
  }

  // A file or folder a trial reads, relative to the spec's folder, so the spec works from any
  // directory.
  std::string resolve_path(const YAML::Node& node, const std::string& written,
                           const std::string& what) const {
    if (written.empty()) fail(node, what + " path must not be empty");
    fs::path p(written);
    if (p.is_relative()) p = fs::path(file_).parent_path() / p;
    std::error_code ec;
    p = fs::absolute(p, ec).lexically_normal();
    if (ec || !fs::exists(p, ec)) {
      fail(node, fmt::format(
                     "{} path '{}' does not exist ({}; relative paths start at the spec's folder)",
                     what, written, p.string()));
    }
    return p.string();
  }

  // A path with a '/' is relative to the spec's folder; a bare name is looked up on PATH.
  std::string resolve_executable(const YAML::Node& node, const std::string& exe) const {
    const std::string hint = "unknown program '" + exe + "': expected " + known_programs() +
                             "or an executable that accepts --key value and reads MLFLOW_RUN_ID";
    if (exe.find('/') != std::string::npos) {
      fs::path p(exe);
      if (p.is_relative()) p = fs::path(file_).parent_path() / p;
      // Not canonical: a symlink (a venv's bin/python) must run as itself, not as its target.
      std::error_code ec;
      p = fs::absolute(p, ec).lexically_normal();
      if (ec || !fs::is_regular_file(p, ec) || ::access(p.c_str(), X_OK) != 0) {
        fail(node, hint + " (" + p.string() + " is not an executable file)");
      }
      return p.string();
    }
    if (const char* path = std::getenv("PATH")) {
      std::stringstream dirs(path);
      for (std::string dir; std::getline(dirs, dir, ':');) {
        const fs::path candidate = fs::path(dir.empty() ? "." : dir) / exe;
        std::error_code ec;
        if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0)
          return candidate.string();
      }
    }
    fail(node, hint + " (not found on PATH)");
  }

  SweepSpec spec(const YAML::Node& root) const {
    SweepSpec s;
    s.file = file_;
    if (!root.IsDefined() || root.IsNull())
      throw SpecError{{file_, 1, 1},
                      "the file is empty; a sweep spec needs name, metric and parameters"};
    expect_map(root, "the sweep spec",
               {"name", "experiment", "description", "method", "count", "seed", "metric",
                "parameters", "program", "register"});
    for (const char* required : {"name", "metric", "parameters"}) {
      if (!root[required]) fail(root, fmt::format("missing required key '{}'", required));
    }
    s.name = name_like(root["name"], "name");
    s.experiment = root["experiment"] ? scalar(root["experiment"], "experiment") : "fashion-mnist";
    if (s.experiment.empty()) fail(root["experiment"], "experiment must not be empty");
    if (root["description"]) s.description = scalar(root["description"], "description");
    if (root["method"]) {
      s.method = scalar(root["method"], "method");
      if (s.method != "grid" && s.method != "random") {
        fail(root["method"], fmt::format("method must be grid or random, not '{}'", s.method));
      }
    }
    if (s.method == "random") {
      if (!root["count"])
        fail(root["method"], "method random needs count (how many trials to sample)");
      s.count = static_cast<int>(integer(root["count"], "count", 1));
      if (root["seed"]) s.seed = integer(root["seed"], "seed", 0);
    } else {
      if (root["count"]) fail(root["count"], "count is only allowed with method: random");
      if (root["seed"])
        fail(root["seed"],
             "seed is only allowed with method: random (a trial's seed is a parameter)");
    }

    const YAML::Node metric = root["metric"];
    expect_map(metric, "metric", {"name", "goal"});
    if (!metric["name"])
      fail(metric, "metric needs a name (a metric the program logs, e.g. best_val_accuracy)");
    s.metric.name = scalar(metric["name"], "metric name");
    s.metric.where = at(metric["name"]);
    // The sweep logs best_<metric> on the parent run: MLflow must take both names.
    for (const std::string& key : {s.metric.name, "best_" + s.metric.name}) {
      if (Status ok = validate_key("metric", key); !ok.ok())
        fail(metric["name"], "metric name: " + ok.message());
    }
    if (metric["goal"]) {
      const std::string goal = scalar(metric["goal"], "metric goal");
      if (goal != "maximize" && goal != "minimize") {
        fail(metric["goal"],
             fmt::format("metric goal must be maximize or minimize, not '{}'", goal));
      }
      s.metric.maximize = goal == "maximize";
    }

    const YAML::Node params = root["parameters"];
    if (!params.IsMap() || params.size() == 0)
      fail(params, "parameters must be a non-empty mapping of name: {...}");
    unique_keys(params, "parameters");
    s.parameters_where = at(params);
    for (const auto& kv : params) {
      s.parameters.push_back(parameter(name_like(kv.first, "parameter name"), kv.second));
      s.parameters.back().name_where = at(kv.first);
    }

    if (s.method == "random") {
      long long combinations = 1;
      for (const auto& p : s.parameters)
        combinations *= static_cast<long long>(p.values.empty() ? 1 : p.values.size());
      if (s.count > combinations) {
        fail(root["count"],
             fmt::format("count {} is more than the {} distinct combinations of the parameters",
                         s.count, combinations));
      }
    }

    if (root["program"]) {
      s.program = program(root["program"]);
    } else if (const ProgramDef* def = programs_.find(programs_.default_name())) {
      s.program = named(*def, ProgramSpec{});
      s.program.where = at(root);
    } else {
      fail(root,
           "missing required key 'program' (an executable that accepts --key value and reads "
           "MLFLOW_RUN_ID)");
    }

    if (const YAML::Node reg = root["register"]) {
      expect_map(reg, "register", {"model_name", "alias", "only_if_better"});
      s.register_model.where = at(reg);
      if (!reg["model_name"]) fail(reg, "register needs model_name");
      s.register_model.model_name = scalar(reg["model_name"], "register model_name");
      if (reg["alias"]) {
        s.register_model.alias = scalar(reg["alias"], "register alias");
        if (Status st = validate_alias(s.register_model.alias); !st.ok()) {
          fail(reg["alias"], "register " + st.message());
        }
      }
      if (reg["only_if_better"])
        s.register_model.only_if_better = boolean(reg["only_if_better"], "only_if_better");
    }
    s.hash = spec_hash(s);
    return s;
  }

  static std::string spec_hash(const SweepSpec& s) {
    std::string canon =
        fmt::format("name={}\nmethod={}\ncount={}\nseed={}\nmetric={}:{}\nprogram={}{}\n", s.name,
                    s.method, s.count, s.seed, s.metric.name, s.metric.maximize ? "max" : "min",
                    s.program.name, fmt::join(s.program.written, " "));
    for (const auto& p : s.parameters) {
      // A path as written, not resolved: a checkout elsewhere is the same sweep.
      const std::vector<std::string>& values =
          p.written_path.empty() ? p.values : std::vector{p.written_path};
      canon += fmt::format("param {} {} {}:{} [{}]\n", p.name, static_cast<int>(p.kind),
                           p.from_sweep, p.from_parameter, fmt::join(values, "\x1f"));
    }
    return fingerprint(canon);
  }

 private:
  std::string file_;
  const ProgramTable& programs_;
};

}  // namespace

StatusOr<SweepSpec> parse_spec(const std::string& text, const std::string& file,
                               const ProgramTable& programs) {
  try {
    return Parser(file, programs).spec(YAML::Load(text));
  } catch (const SpecError& e) {
    return Status(StatusCode::kInvalidArgument, e.where.to_string() + ": " + e.message);
  } catch (const YAML::Exception& e) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("{}:{}:{}: malformed YAML: {}", file, e.mark.line + 1,
                              e.mark.column + 1, e.msg));
  }
}

StatusOr<SweepSpec> load_spec(const std::string& path, const ProgramTable& programs) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status(StatusCode::kNotFound,
                  path + ": cannot read the sweep spec (no such file or no permission)");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_spec(text.str(), path, programs);
}

}  // namespace mlflow::sweep
