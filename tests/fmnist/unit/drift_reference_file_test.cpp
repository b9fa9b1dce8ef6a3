// SPDX-License-Identifier: Apache-2.0
// Tests of drift_reference.json: the round trip, and bad files named with the key at fault.
#include "fmnist/drift_reference_file.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace mlflow::fmnist {
namespace {

using nlohmann::json;

DriftReference sample_reference() {
  DriftReference r;
  r.num_classes = 3;
  r.source = "validation split";
  r.histograms = DriftHistograms::empty(3);
  r.histograms.add({0, 0.95, 0.1, 0.3, 0.6});
  r.histograms.add({2, 0.55, 0.7, 0.2, 0.8});
  r.thresholds.window_size = 500;
  r.thresholds.false_alarm_rate = 0.01;
  r.thresholds.calibration_windows = 2024;
  r.thresholds.quantile = 0.998;
  for (int i = 0; i < kDriftStatisticCount; ++i) r.thresholds.limits[i] = 0.1 * (i + 1);
  return r;
}

// The sample's JSON with `edit` applied, parsed.
template <typename Edit>
Status parse_edited(Edit edit) {
  json j = json::parse(drift_reference_json(sample_reference()));
  edit(j);
  return parse_drift_reference(j.dump(), "m/drift_reference.json").status();
}

TEST_CASE("drift reference file: written, saved and read back equal") {
  const DriftReference r = sample_reference();
  auto back = parse_drift_reference(drift_reference_json(r), "text");
  REQUIRE_MESSAGE(back.ok(), back.status().to_string());
  CHECK(back->num_classes == 3);
  CHECK(back->source == "validation split");
  CHECK(back->histograms.images == 2);
  CHECK(back->histograms.predicted_class == r.histograms.predicted_class);
  CHECK(back->histograms.top_probability == r.histograms.top_probability);
  CHECK(back->histograms.background_fraction == r.histograms.background_fraction);
  CHECK(back->thresholds.limits == r.thresholds.limits);
  CHECK(back->thresholds.window_size == 500);
  CHECK(back->thresholds.calibration_windows == 2024);
  CHECK(back->thresholds.quantile == 0.998);

  testing::TempDir dir;
  const std::string path = dir.path() + "/" + kDriftReferenceFileName;
  REQUIRE(save_drift_reference(r, path).ok());
  auto loaded = load_drift_reference(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->histograms.entropy == r.histograms.entropy);
  CHECK(json::parse(testing::read_file(path))["format_version"] == 1);
}

TEST_CASE("drift reference file: bad files are refused naming the file and the key") {
  testing::TempDir dir;
  CHECK(load_drift_reference(dir.path() + "/none.json").status().message() ==
        "the drift reference '" + dir.path() + "/none.json' is not a file");
  testing::write_file(dir.path() + "/bad.json", "{not json");
  CHECK(load_drift_reference(dir.path() + "/bad.json").status().message() ==
        "drift reference '" + dir.path() + "/bad.json' is not a JSON object");

  const std::string prefix = "drift reference 'm/drift_reference.json': key ";
  CHECK(parse_edited([](json& j) { j["format_version"] = 2; }).message() ==
        prefix + "'format_version' is 2; this build reads version 1");
  CHECK(parse_edited([](json& j) { j["thresholds"]["limits"].erase("entropy_ks"); }).message() ==
        prefix + "'thresholds.limits.entropy_ks' is missing");
  CHECK(parse_edited([](json& j) { j["thresholds"]["limits"]["class_chi2"] = "high"; }).message() ==
        prefix + "'thresholds.limits.class_chi2' is not a finite number: \"high\"");
  CHECK(parse_edited([](json& j) {
          j["histograms"]["entropy"] = json::array({1, 2});
        }).message() == prefix + "'histograms.entropy' must be an array of 100 counts");
  CHECK(parse_edited([](json& j) { j["histograms"]["predicted_class"][1] = -1; }).message() ==
        prefix + "'histograms.predicted_class' holds -1, not a count");
  CHECK(parse_edited([](json& j) { j["bins"]["continuous"] = 50; }).message() ==
        prefix + "'bins' are 50 bins and background level 0.1; this build uses 100 and 0.1");
  CHECK(parse_edited([](json& j) { j.erase("num_classes"); }).message() ==
        prefix + "'num_classes' is missing");
  CHECK(parse_edited([](json& j) { j["thresholds"]["window_size"] = 0; }).message() ==
        prefix + "'thresholds.window_size' must be at least 1");
}

}  // namespace
}  // namespace mlflow::fmnist
