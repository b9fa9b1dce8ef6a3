// SPDX-License-Identifier: Apache-2.0
// Log-batch splitting: counts, the 1 MB size limit and order.
#include <doctest/doctest.h>

#include "batch_split.h"

namespace d = mlflow::detail;

TEST_CASE("batch split: nothing to send gives no request") {
  CHECK(d::split_log_batch({}, {}, {}).empty());
}

TEST_CASE("batch split: 1000 items per request, params and tags at most 100") {
  std::vector<mlflow::Metric> ms(1500);
  std::vector<mlflow::Param> ps(250);
  mlflow::Tags ts(30);
  for (size_t i = 0; i < ms.size(); ++i) ms[i].key = "m", ms[i].step = static_cast<int64_t>(i);
  for (size_t i = 0; i < ps.size(); ++i) ps[i] = {"p" + std::to_string(i), "v"};
  for (size_t i = 0; i < ts.size(); ++i) ts[i] = {"t" + std::to_string(i), "v"};
  auto reqs = d::split_log_batch(ms, ps, ts);
  size_t total_m = 0, total_p = 0, total_t = 0;
  for (const auto& r : reqs) {
    CHECK(r.items() <= 1000);
    CHECK(r.params.size() <= 100);
    CHECK(r.tags.size() <= 100);
    CHECK(r.metrics.size() <= 1000);
    total_m += r.metrics.size();
    total_p += r.params.size();
    total_t += r.tags.size();
  }
  CHECK(total_m == 1500);
  CHECK(total_p == 250);
  CHECK(total_t == 30);
  CHECK(reqs.front().params.front().key == "p0");
  CHECK(reqs.back().metrics.back().step == 1499);
}

TEST_CASE("batch split: the byte limit splits big tag values") {
  mlflow::Tags ts;
  for (int i = 0; i < 100; ++i) ts.push_back({"t" + std::to_string(i), std::string(8000, 'x')});
  d::BatchLimits lim;
  auto reqs = d::split_log_batch({}, {}, ts, lim);
  REQUIRE(reqs.size() == 1);  // 100 * ~8 KB = 0.8 MB fits
  lim.max_bytes = 100'000;
  reqs = d::split_log_batch({}, {}, ts, lim);
  CHECK(reqs.size() == 9);  // 12 tags of ~8 KB per 100 KB request
  for (const auto& r : reqs) CHECK(r.tags.size() <= 12);
}
