// SPDX-License-Identifier: Apache-2.0
// Tests of the Fashion-MNIST splits as MLflow dataset inputs.
#include "fmnist/fmnist_lineage.h"
#include "mlflow/training/dataset_lineage.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace mlflow::fmnist {
namespace {

// sha256("abc"): each part's files hold "abc" split in two.
constexpr const char* kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST_CASE("lineage: the three Fashion-MNIST splits as dataset inputs") {
  testing::TempDir dir;
  const FmnistFiles train = fmnist_files(dir.path(), FmnistPart::kTrain);
  const FmnistFiles test = fmnist_files(dir.path(), FmnistPart::kTest);
  testing::write_file(train.images, "ab");
  testing::write_file(train.labels, "c");
  testing::write_file(test.images, "a");
  testing::write_file(test.labels, "bc");

  auto inputs = fmnist_dataset_inputs(dir.path(), SplitOptions{0.75, 7},
                                      FmnistSplitSizes{45000, 15000, 10000});
  REQUIRE(inputs.ok());
  REQUIRE(inputs->size() == 3);
  const DatasetInput& tr = (*inputs)[0];
  const DatasetInput& va = (*inputs)[1];
  const DatasetInput& te = (*inputs)[2];
  CHECK(tr.dataset.name == "fashion-mnist-train");
  CHECK(va.dataset.name == "fashion-mnist-validation");
  CHECK(te.dataset.name == "fashion-mnist-test");
  CHECK(tr.dataset.digest ==
        training::dataset_digest(kAbc, "part=train;subset=training;train_val_split=0.75;seed=7"));
  CHECK(va.dataset.digest ==
        training::dataset_digest(kAbc, "part=train;subset=validation;train_val_split=0.75;seed=7"));
  CHECK(te.dataset.digest == std::string(kAbc).substr(0, 36));  // whole files: the files' own hash
  CHECK(tr.tags[0].value == "training");
  CHECK(va.tags[0].value == "validation");
  CHECK(te.tags[0].value == "test");
  CHECK(nlohmann::json::parse(va.dataset.profile).at("num_rows") == 15000);
  CHECK(nlohmann::json::parse(te.dataset.source).at("uri") == dir.path());
  const auto schema = nlohmann::json::parse(te.dataset.schema);
  const auto features =
      nlohmann::json::parse(schema.at("mlflow_tensorspec").at("features").get<std::string>());
  CHECK(features.at(0).at("tensor-spec").at("shape") == nlohmann::json::array({-1, 1, 28, 28}));

  auto missing = fmnist_dataset_inputs(dir.path() + "/none", SplitOptions{}, FmnistSplitSizes{});
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message() ==
        dir.path() + "/none/train-images-idx3-ubyte.gz: no such file");
}

}  // namespace
}  // namespace mlflow::fmnist
