// SPDX-License-Identifier: Apache-2.0
// drift_reference.json: writing, and reading with errors that name the file and the key.
#include "fmnist/drift_reference_file.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mlflow/atomic_file.h"

namespace mlflow::fmnist {
namespace {

using nlohmann::json;

std::string key_path(const std::string& path, const char* key) {
  return path.empty() ? key : path + "." + key;
}

// The histograms in the file's order, by key.
struct HistogramKey {
  const char* key;
  std::vector<double> DriftHistograms::*bins;
};
constexpr HistogramKey kHistogramKeys[] = {
    {"predicted_class", &DriftHistograms::predicted_class},
    {"top_probability", &DriftHistograms::top_probability},
    {"entropy", &DriftHistograms::entropy},
    {"mean_intensity", &DriftHistograms::mean_intensity},
    {"background_fraction", &DriftHistograms::background_fraction}};

// Reads JSON values, naming the source and the key path on error.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  Status error(const std::string& key, const std::string& what) const {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("drift reference '{}': key '{}' {}", source_, key, what));
  }
  StatusOr<const json*> member(const json& object, const std::string& path, const char* key) const {
    if (!object.is_object() || !object.contains(key))
      return error(key_path(path, key), "is missing");
    return &object.at(key);
  }
  StatusOr<double> number(const json& object, const std::string& path, const char* key) const {
    auto v = member(object, path, key);
    if (!v.ok()) return v.status();
    if (!(*v)->is_number() || !std::isfinite((*v)->get<double>())) {
      return error(key_path(path, key), "is not a finite number: " + (*v)->dump());
    }
    return (*v)->get<double>();
  }
  StatusOr<std::int64_t> integer(const json& object, const std::string& path,
                                 const char* key) const {
    auto v = member(object, path, key);
    if (!v.ok()) return v.status();
    if (!(*v)->is_number_integer()) {
      return error(key_path(path, key), "is not an integer: " + (*v)->dump());
    }
    return (*v)->get<std::int64_t>();
  }
  StatusOr<std::vector<double>> counts(const json& object, const char* key,
                                       std::size_t size) const {
    const std::string full = key_path("histograms", key);
    auto v = member(object, "histograms", key);
    if (!v.ok()) return v.status();
    if (!(*v)->is_array() || (*v)->size() != size) {
      return error(full, fmt::format("must be an array of {} counts", size));
    }
    std::vector<double> out;
    for (const auto& c : **v) {
      if (!c.is_number() || !(c.get<double>() >= 0) || !std::isfinite(c.get<double>())) {
        return error(full, "holds " + c.dump() + ", not a count");
      }
      out.push_back(c.get<double>());
    }
    return out;
  }

 private:
  std::string source_;
};

}  // namespace

std::string drift_reference_json(const DriftReference& r) {
  json histograms = json::object();
  for (const auto& h : kHistogramKeys) histograms[h.key] = r.histograms.*h.bins;
  json limits = json::object();
  for (int i = 0; i < kDriftStatisticCount; ++i) {
    limits[kDriftStatisticNames[i]] = r.thresholds.limits[i];
  }
  const json j = {{"format_version", kDriftReferenceFormatVersion},
                  {"source", r.source},
                  {"images", r.histograms.images},
                  {"num_classes", r.num_classes},
                  {"bins", {{"continuous", kDriftBins}, {"background_level", kBackgroundLevel}}},
                  {"histograms", histograms},
                  {"thresholds",
                   {{"window_size", r.thresholds.window_size},
                    {"false_alarm_rate", r.thresholds.false_alarm_rate},
                    {"calibration_windows", r.thresholds.calibration_windows},
                    {"quantile", r.thresholds.quantile},
                    {"limits", limits}}}};
  return j.dump(1) + "\n";
}

StatusOr<DriftReference> parse_drift_reference(const std::string& json_text,
                                               const std::string& source) {
  const json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status(StatusCode::kInvalidArgument,
                  fmt::format("drift reference '{}' is not a JSON object", source));
  }
  const Reader in(source);
  auto version = in.integer(j, "", "format_version");
  if (!version.ok()) return version.status();
  if (*version != kDriftReferenceFormatVersion) {
    return in.error("format_version", fmt::format("is {}; this build reads version {}", *version,
                                                  kDriftReferenceFormatVersion));
  }
  DriftReference r;
  auto src = in.member(j, "", "source");
  if (!src.ok()) return src.status();
  if (!(*src)->is_string()) return in.error("source", "is not a string");
  r.source = (*src)->get<std::string>();
  auto classes = in.integer(j, "", "num_classes");
  if (!classes.ok()) return classes.status();
  if (*classes < 2) return in.error("num_classes", "must be at least 2");
  r.num_classes = *classes;
  auto images = in.integer(j, "", "images");
  if (!images.ok()) return images.status();
  if (*images < 1) return in.error("images", "must be at least 1");

  auto bins = in.member(j, "", "bins");
  if (!bins.ok()) return bins.status();
  auto continuous = in.integer(**bins, "bins", "continuous");
  if (!continuous.ok()) return continuous.status();
  auto level = in.number(**bins, "bins", "background_level");
  if (!level.ok()) return level.status();
  if (*continuous != kDriftBins || *level != kBackgroundLevel) {
    return in.error("bins", fmt::format("are {} bins and background level {}; this build uses {} "
                                        "and {}",
                                        *continuous, *level, kDriftBins, kBackgroundLevel));
  }

  auto histograms = in.member(j, "", "histograms");
  if (!histograms.ok()) return histograms.status();
  r.histograms.images = *images;
  for (const auto& h : kHistogramKeys) {
    const std::size_t size = h.bins == &DriftHistograms::predicted_class
                                 ? static_cast<std::size_t>(r.num_classes)
                                 : static_cast<std::size_t>(kDriftBins);
    auto c = in.counts(**histograms, h.key, size);
    if (!c.ok()) return c.status();
    r.histograms.*h.bins = std::move(*c);
  }

  auto t = in.member(j, "", "thresholds");
  if (!t.ok()) return t.status();
  auto window = in.integer(**t, "thresholds", "window_size");
  if (!window.ok()) return window.status();
  if (*window < 1) return in.error("thresholds.window_size", "must be at least 1");
  auto rate = in.number(**t, "thresholds", "false_alarm_rate");
  if (!rate.ok()) return rate.status();
  auto windows = in.integer(**t, "thresholds", "calibration_windows");
  if (!windows.ok()) return windows.status();
  auto quantile = in.number(**t, "thresholds", "quantile");
  if (!quantile.ok()) return quantile.status();
  r.thresholds.window_size = *window;
  r.thresholds.false_alarm_rate = *rate;
  r.thresholds.calibration_windows = *windows;
  r.thresholds.quantile = *quantile;
  auto limits = in.member(**t, "thresholds", "limits");
  if (!limits.ok()) return limits.status();
  for (int i = 0; i < kDriftStatisticCount; ++i) {
    auto v = in.number(**limits, "thresholds.limits", kDriftStatisticNames[i]);
    if (!v.ok()) return v.status();
    r.thresholds.limits[i] = *v;
  }
  return r;
}

StatusOr<DriftReference> load_drift_reference(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status(StatusCode::kNotFound, "the drift reference '" + path + "' is not a file");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    return Status(StatusCode::kNotFound, "cannot read the drift reference '" + path + "'");
  }
  return parse_drift_reference(text.str(), path);
}

Status save_drift_reference(const DriftReference& reference, const std::string& path) {
  Status st = write_file_atomically(path, drift_reference_json(reference));
  if (!st.ok()) {
    return Status(StatusCode::kInternal,
                  "cannot write the drift reference '" + path + "': " + st.message());
  }
  return st;
}

}  // namespace mlflow::fmnist
