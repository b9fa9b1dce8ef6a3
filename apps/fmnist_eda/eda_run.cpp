// SPDX-License-Identifier: Apache-2.0
// The params, metrics, tags, dataset inputs and files of the eda run, and logging them in order.
#include "eda_run.h"

#include <fmt/format.h>

namespace mlflow::apps {

namespace fm = mlflow::fmnist;

EdaRunContent eda_run_content(const fm::EdaResult& r, const std::string& data_dir,
                              const fm::SplitOptions& split) {
  EdaRunContent c;
  c.params = {{"data_dir", data_dir},
              {"sample_size", r.options.all ? "all" : std::to_string(r.options.sample_size)},
              {"seed", std::to_string(r.options.seed)},
              {"train_images", std::to_string(r.train.part_rows)},
              {"test_images", std::to_string(r.test.part_rows)},
              {"pca_fitted_on", "train"},
              {"normalisation_tolerance", fmt::format("{}", r.normalisation.tolerance)},
              {"lineage_train_val_split", fmt::format("{}", split.train_val_split)},
              {"lineage_split_seed", std::to_string(split.seed)}};
  c.metrics = fm::eda_metrics(r);
  const std::string verdict = fm::drift_level_name(r.drift.overall);
  c.tags = {
      {"eda.drift_verdict", verdict},
      {"eda.normalisation_agrees", r.normalisation.agree ? "true" : "false"},
      {"mlflow.note.content",
       fmt::format(
           "Fashion-MNIST exploratory data analysis of {} train and {} test images. Train/test "
           "drift: {}. Pixel mean/std {} the trainer's normalisation constants. See "
           "eda_report.html.",
           r.train.stats.images, r.test.stats.images, verdict,
           r.normalisation.agree ? "agree with" : "DO NOT agree with")}};
  return c;
}

Status log_eda_run(ActiveRun& run, const EdaRunContent& c) {
  MLFLOW_CPP_RETURN_IF_ERROR(run.log_params(c.params).with_context("logging params"));
  MLFLOW_CPP_RETURN_IF_ERROR(run.log_metrics(c.metrics).with_context("logging metrics"));
  MLFLOW_CPP_RETURN_IF_ERROR(run.set_tags(c.tags).with_context("setting tags"));
  MLFLOW_CPP_RETURN_IF_ERROR(
      run.client().log_inputs(run.id(), c.inputs).with_context("logging dataset inputs"));
  return run.log_artifacts(c.files_dir).with_context("uploading the pictures and report");
}

}  // namespace mlflow::apps
