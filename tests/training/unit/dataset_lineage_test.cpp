// SPDX-License-Identifier: Apache-2.0
// Tests of the sha256 helpers, digests and the MLflow dataset input of one split of any data set.
#include "mlflow/training/dataset_lineage.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace mlflow::training {
namespace {

constexpr const char* kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST_CASE("lineage: sha256 of strings and files, stable and order-sensitive") {
  CHECK(sha256_hex("abc") == kAbc);
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  testing::TempDir dir;
  testing::write_file(dir.path() + "/ab", "ab");
  testing::write_file(dir.path() + "/c", "c");
  testing::write_file(dir.path() + "/abc", "abc");
  CHECK(*sha256_file(dir.path() + "/abc") == kAbc);
  CHECK(*sha256_files({dir.path() + "/ab", dir.path() + "/c"}) == kAbc);
  CHECK(*sha256_files({dir.path() + "/c", dir.path() + "/ab"}) != kAbc);

  auto missing = sha256_files({dir.path() + "/ab", dir.path() + "/none"});
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message() == dir.path() + "/none: no such file");
}

TEST_CASE("lineage: the digest is a 36-character prefix that depends on the selection") {
  CHECK(dataset_digest(kAbc, "") == std::string(kAbc).substr(0, 36));
  const std::string a = dataset_digest(kAbc, "part=train;train_val_split=0.8;seed=42");
  const std::string b = dataset_digest(kAbc, "part=train;train_val_split=0.8;seed=43");
  CHECK(a.size() == kMaxDatasetDigestLength);
  CHECK(a != b);
  CHECK(a == dataset_digest(kAbc, "part=train;train_val_split=0.8;seed=42"));
}

TEST_CASE("lineage: a dataset input carries name, digest, source, schema, profile and context") {
  DatasetSpec spec;
  spec.name = "sensor-readings-validation";
  spec.source_uri = "/data/sensors";
  spec.files_sha256 = kAbc;
  spec.selection = "part=validation;train_val_split=0.8;seed=42";
  spec.num_rows = 12000;
  spec.context = DatasetContext::kValidation;
  spec.schema_json = tensor_schema_json({"float32", {-1, 3, 64}}, {"int64", {-1}});
  const DatasetInput in = make_dataset_input(spec);

  CHECK(in.dataset.name == "sensor-readings-validation");
  CHECK(in.dataset.digest == dataset_digest(kAbc, spec.selection));
  CHECK(in.dataset.source_type == "local");
  CHECK(in.dataset.source == R"({"uri":"/data/sensors"})");
  REQUIRE(in.tags.size() == 1);
  CHECK(in.tags[0].key == "mlflow.data.context");
  CHECK(in.tags[0].value == "validation");

  const auto profile = nlohmann::json::parse(in.dataset.profile);
  CHECK(profile.at("num_rows") == 12000);
  CHECK(profile.at("files_sha256") == kAbc);
  CHECK(profile.at("selection") == spec.selection);

  const auto schema = nlohmann::json::parse(in.dataset.schema);
  const auto features =
      nlohmann::json::parse(schema.at("mlflow_tensorspec").at("features").get<std::string>());
  CHECK(features.at(0).at("tensor-spec").at("dtype") == "float32");
  CHECK(features.at(0).at("tensor-spec").at("shape") == nlohmann::json::array({-1, 3, 64}));
  const auto targets =
      nlohmann::json::parse(schema.at("mlflow_tensorspec").at("targets").get<std::string>());
  CHECK(targets.at(0).at("tensor-spec").at("dtype") == "int64");

  CHECK(std::string(dataset_context_name(DatasetContext::kTraining)) == "training");
  CHECK(std::string(dataset_context_name(DatasetContext::kTest)) == "test");
}

TEST_CASE("lineage: a spec without a schema logs none") {
  DatasetSpec spec;
  spec.name = "raw";
  spec.source_uri = "/data/raw";
  spec.files_sha256 = kAbc;
  CHECK(make_dataset_input(spec).dataset.schema.empty());
}

}  // namespace
}  // namespace mlflow::training
