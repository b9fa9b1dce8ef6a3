// SPDX-License-Identifier: Apache-2.0
// The Fashion-MNIST dataset inputs logged to the real MLflow server and read back from the run.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "fmnist/fmnist_lineage.h"
#include "mlflow/training/dataset_lineage.h"
#include "support/test_support.h"

namespace mlflow::fmnist {
namespace {

TEST_CASE(
    "dataset inputs: the three splits are stored with digest, source, schema, profile and "
    "context") {
  auto inputs = fmnist_dataset_inputs(fmnist_data_dir(), SplitOptions{},
                                      FmnistSplitSizes{48000, 12000, 10000});
  REQUIRE_MESSAGE(inputs.ok(), inputs.status().to_string());

  MlflowClient client = testing::test_client();
  const testing::RunRef ref = testing::new_run(client, "fmnist-datasets");
  const Status logged = client.log_inputs(ref.run_id, *inputs);
  REQUIRE_MESSAGE(logged.ok(), logged.to_string());

  auto run = client.get_run(ref.run_id);
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  REQUIRE(run->dataset_inputs.size() == 3);
  for (const DatasetInput& sent : *inputs) {
    const DatasetInput* got = nullptr;
    for (const auto& d : run->dataset_inputs) {
      if (d.dataset.name == sent.dataset.name) got = &d;
    }
    REQUIRE_MESSAGE(got != nullptr, sent.dataset.name);
    CHECK(got->dataset.digest == sent.dataset.digest);
    CHECK(got->dataset.digest.size() == 36);
    CHECK(got->dataset.source_type == "local");
    CHECK(nlohmann::json::parse(got->dataset.source) == nlohmann::json::parse(sent.dataset.source));
    CHECK(nlohmann::json::parse(got->dataset.schema) == nlohmann::json::parse(sent.dataset.schema));
    CHECK(nlohmann::json::parse(got->dataset.profile) ==
          nlohmann::json::parse(sent.dataset.profile));
    REQUIRE(got->tags.size() == 1);
    CHECK(got->tags[0].key == "mlflow.data.context");
    CHECK(got->tags[0].value == sent.tags[0].value);
  }
}

}  // namespace
}  // namespace mlflow::fmnist
