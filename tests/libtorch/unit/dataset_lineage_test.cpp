// SPDX-License-Identifier: Apache-2.0
// Tests of the sha256 helpers and the MLflow dataset inputs built for the splits.
#include "mlflow/libtorch/dataset_lineage.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace mlflow::libtorch {
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
  spec.name = "fashion-mnist-validation";
  spec.source_uri = "/usr/share/datasets/fashion-mnist";
  spec.files_sha256 = kAbc;
  spec.selection = "part=validation;train_val_split=0.8;seed=42";
  spec.num_rows = 12000;
  spec.context = DatasetContext::kValidation;
  const DatasetInput in = make_dataset_input(spec);

  CHECK(in.dataset.name == "fashion-mnist-validation");
  CHECK(in.dataset.digest == dataset_digest(kAbc, spec.selection));
  CHECK(in.dataset.source_type == "local");
  CHECK(in.dataset.source == R"({"uri":"/usr/share/datasets/fashion-mnist"})");
  REQUIRE(in.tags.size() == 1);
  CHECK(in.tags[0].key == "mlflow.data.context");
  CHECK(in.tags[0].value == "validation");

  const auto profile = nlohmann::json::parse(in.dataset.profile);
  CHECK(profile.at("num_rows") == 12000);
  CHECK(profile.at("files_sha256") == kAbc);
  CHECK(profile.at("selection") == spec.selection);

  const auto schema = nlohmann::json::parse(in.dataset.schema);
  const auto features = nlohmann::json::parse(schema.at("mlflow_tensorspec").at("features").get<std::string>());
  CHECK(features.at(0).at("tensor-spec").at("dtype") == "float32");
  CHECK(features.at(0).at("tensor-spec").at("shape") == nlohmann::json::array({-1, 1, 28, 28}));
  const auto targets = nlohmann::json::parse(schema.at("mlflow_tensorspec").at("targets").get<std::string>());
  CHECK(targets.at(0).at("tensor-spec").at("dtype") == "int64");

  CHECK(std::string(dataset_context_name(DatasetContext::kTraining)) == "training");
  CHECK(std::string(dataset_context_name(DatasetContext::kTest)) == "test");
}

TEST_CASE("lineage: the three Fashion-MNIST splits as dataset inputs") {
  testing::TempDir dir;
  const FmnistFiles train = fmnist_files(dir.path(), FmnistPart::kTrain);
  const FmnistFiles test = fmnist_files(dir.path(), FmnistPart::kTest);
  testing::write_file(train.images, "ab");
  testing::write_file(train.labels, "c");
  testing::write_file(test.images, "a");
  testing::write_file(test.labels, "bc");

  auto inputs = fmnist_dataset_inputs(dir.path(), SplitOptions{0.75, 7}, FmnistSplitSizes{45000, 15000, 10000});
  REQUIRE(inputs.ok());
  REQUIRE(inputs->size() == 3);
  const DatasetInput& tr = (*inputs)[0];
  const DatasetInput& va = (*inputs)[1];
  const DatasetInput& te = (*inputs)[2];
  CHECK(tr.dataset.name == "fashion-mnist-train");
  CHECK(va.dataset.name == "fashion-mnist-validation");
  CHECK(te.dataset.name == "fashion-mnist-test");
  CHECK(tr.dataset.digest == dataset_digest(kAbc, "part=train;subset=training;train_val_split=0.75;seed=7"));
  CHECK(va.dataset.digest == dataset_digest(kAbc, "part=train;subset=validation;train_val_split=0.75;seed=7"));
  CHECK(te.dataset.digest == std::string(kAbc).substr(0, 36));  // whole files: the files' own hash
  CHECK(tr.tags[0].value == "training");
  CHECK(va.tags[0].value == "validation");
  CHECK(te.tags[0].value == "test");
  CHECK(nlohmann::json::parse(va.dataset.profile).at("num_rows") == 15000);
  CHECK(nlohmann::json::parse(te.dataset.source).at("uri") == dir.path());

  auto missing = fmnist_dataset_inputs(dir.path() + "/none", SplitOptions{}, FmnistSplitSizes{});
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message() == dir.path() + "/none/train-images-idx3-ubyte.gz: no such file");
}

}  // namespace
}  // namespace mlflow::libtorch
