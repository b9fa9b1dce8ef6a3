// SPDX-License-Identifier: Apache-2.0
// Which worker finalizes a complete sweep: a claim on the parent run (see claim_finalize).
#include <algorithm>
#include <unistd.h>

#include <fmt/format.h>

#include "mlflow/system_tags.h"
#include "sweep_run.h"

namespace mlflow::sweep::detail {

// Every worker that sees the sweep complete may finalize; a claim on the parent run picks one. The
// claim is a tag (identity@ms): a worker that finds another's fresh claim leaves it the job; one
// that writes its claim looks again a second later and goes on only if the claim is still its own,
// so of two claiming at once the later writer wins. Nobody is left out: a claim is written by a
// worker that is about to finalize and removed when it is done, and a stale one (a crashed worker)
// is taken over.
StatusOr<bool> SweepRun::claim_finalize() {
  const std::string me = process_identity(::getpid()) + "/" + host_name();
  auto parent = client_.get_run(report_.parent_run_id);
  if (!parent.ok()) return parent.status().with_context("reading the parent run");
  if (detail::others_claim_is_fresh(tag_value(*parent, kTagFinalizer), me, clock().wall_ms(),
                                    options_.claim_fresh)) {
    return false;
  }
  MLFLOW_CPP_RETURN_IF_ERROR(client_.set_tag(report_.parent_run_id, kTagFinalizer,
                                             me + "@" + std::to_string(clock().wall_ms())));
  clock().sleep_for(options_.claim_settle);
  auto again = client_.get_run(report_.parent_run_id);
  if (!again.ok()) return again.status().with_context("reading the parent run");
  return tag_value(*again, kTagFinalizer).rfind(me + "@", 0) == 0;
}

// Every trial ended (by any worker)? Then one worker finalizes.
Status SweepRun::conclude() {
  auto results = detail::collect_results(client_, spec_, trials_, report_.experiment_id,
                                         report_.parent_run_id);
  if (!results.ok()) return results.status();
  merge(std::move(*results));
  report_.complete = std::all_of(report_.trials.begin(), report_.trials.end(),
                                 [](const TrialResult& r) { return r.ended(); });
  if (report_.complete) {
    auto mine = claim_finalize();
    if (!mine.ok()) return mine.status();
    if (!*mine) {
      report_.best = best_trial(report_.trials, spec_.metric.maximize);
      observer_.message(
          fmt::format("sweep '{}': another worker is selecting and registering", spec_.name));
      return ok_status();
    }
  }
  if (!report_.complete) {
    report_.best = best_trial(report_.trials, spec_.metric.maximize);
    observer_.message(
        fmt::format("sweep '{}': trials of other workers are still pending or running; the last "
                    "worker to finish selects and "
                    "registers (or run `sweep_runner finalize {}`)",
                    spec_.name, spec_.file));
    return ok_status();
  }
  MLFLOW_CPP_RETURN_IF_ERROR(detail::finalize(client_, spec_, report_, observer_));
  (void)client_.delete_tag(report_.parent_run_id,
                           kTagFinalizer);  // done: a later run may finalize again
  return ok_status();
}

}  // namespace mlflow::sweep::detail
