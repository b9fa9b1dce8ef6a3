// SPDX-License-Identifier: Apache-2.0
// The on-disk feature cache: hits, corruption, unwritable directories, eviction, concurrent
// processes.
#include <sys/wait.h>
#include <unistd.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

#include "fmnist/feature_cache.h"

#include <doctest/doctest.h>

#include "support/test_support.h"

namespace fm = mlflow::fmnist;
namespace fs = std::filesystem;
using mlflow::testing::TempDir;
using mlflow::testing::write_file;

namespace {

std::vector<fm::TensorSet> sets(double value) {
  return {{at::full({4, 3}, value), at::arange(4, at::kLong)},
          {at::full({2, 3}, value + 1), at::arange(2, at::kLong)}};
}

struct Counting {
  int calls = 0;
  double value = 1;
  fm::FeatureCache::Compute fn() {
    return [this]() -> mlflow::StatusOr<std::vector<fm::TensorSet>> {
      ++calls;
      return sets(value);
    };
  }
};

fm::FeatureCacheOptions options(const std::string& dir, std::vector<std::string>* warnings) {
  fm::FeatureCacheOptions o;
  o.dir = dir;
  o.warn = [warnings](const std::string& w) { warnings->push_back(w); };
  return o;
}

}  // namespace

TEST_CASE("feature cache: computed once, then read back exactly") {
  TempDir dir;
  std::vector<std::string> warnings;
  fm::FeatureCache cache(options(dir.path() + "/features", &warnings));
  Counting c;
  bool hit = true;
  auto first = cache.get_or_compute("k1", c.fn(), {}, &hit);
  REQUIRE(first.ok());
  CHECK_FALSE(hit);
  auto second = cache.get_or_compute("k1", c.fn(), {}, &hit);
  REQUIRE(second.ok());
  CHECK(hit);
  CHECK(c.calls == 1);
  REQUIRE(second->size() == 2);
  CHECK((*second)[0].images.equal((*first)[0].images));
  CHECK((*second)[1].labels.equal((*first)[1].labels));
  CHECK(warnings.empty());
}

TEST_CASE("feature cache: a truncated entry is detected, warned about and computed again") {
  TempDir dir;
  std::vector<std::string> warnings;
  fm::FeatureCache cache(options(dir.path(), &warnings));
  Counting c;
  REQUIRE(cache.get_or_compute("k", c.fn(), {}).ok());
  const fs::path entry = fs::path(dir.path()) / "k.pt";
  fs::resize_file(entry, fs::file_size(entry) / 2);
  bool hit = true;
  auto again = cache.get_or_compute("k", c.fn(), {}, &hit);
  REQUIRE(again.ok());
  CHECK_FALSE(hit);
  CHECK(c.calls == 2);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("corrupt or truncated") != std::string::npos);
  // ...and it was stored again, whole.
  CHECK(cache.get_or_compute("k", c.fn(), {}, &hit).ok());
  CHECK(hit);
}

TEST_CASE(
    "feature cache: an unwritable directory is a warning, and the features are still computed") {
  TempDir dir;
  write_file(dir.path() + "/file", "not a directory");
  std::vector<std::string> warnings;
  fm::FeatureCache cache(options(dir.path() + "/file/features", &warnings));
  Counting c;
  auto r = cache.get_or_compute("k", c.fn(), {});
  REQUIRE(r.ok());
  CHECK(c.calls == 1);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("not writable") != std::string::npos);
}

TEST_CASE("feature cache: the least recently used entries go beyond the size bound") {
  TempDir dir;
  std::vector<std::string> warnings;
  auto o = options(dir.path(), &warnings);
  Counting c;
  fm::FeatureCache unbounded(o);
  REQUIRE(unbounded.get_or_compute("a", c.fn(), {}).ok());
  const auto entry = fs::file_size(fs::path(dir.path()) / "a.pt");
  REQUIRE(unbounded.get_or_compute("b", c.fn(), {}).ok());
  // "a" is used again, so "b" is the least recently used when "c" arrives with room for two
  // entries.
  fs::last_write_time(fs::path(dir.path()) / "b.pt",
                      fs::file_time_type::clock::now() - std::chrono::hours(1));
  o.max_bytes = 2 * entry + entry / 2;
  fm::FeatureCache bounded(o);
  REQUIRE(bounded.get_or_compute("a", c.fn(), {}).ok());
  REQUIRE(bounded.get_or_compute("c", c.fn(), {}).ok());
  CHECK(fs::exists(fs::path(dir.path()) / "a.pt"));
  CHECK_FALSE(fs::exists(fs::path(dir.path()) / "b.pt"));
  CHECK_FALSE(fs::exists(fs::path(dir.path()) / "b.sha256"));
  CHECK(fs::exists(fs::path(dir.path()) / "c.pt"));
}

TEST_CASE("feature cache: two processes asking at once compute once") {
  TempDir dir;
  const std::string marker = dir.path() + "/computed";
  auto worker = [&]() {
    fm::FeatureCache cache(fm::FeatureCacheOptions{
        dir.path() + "/cache", 1ull << 30, std::chrono::milliseconds(5), {}});
    auto r = cache.get_or_compute("shared",
                                  [&]() -> mlflow::StatusOr<std::vector<fm::TensorSet>> {
                                    std::ofstream(marker, std::ios::app) << "x";
                                    return sets(3);
                                  },
                                  {});
    return r.ok() && (*r)[0].images.equal(sets(3)[0].images);
  };
  std::vector<pid_t> children;
  for (int i = 0; i < 3; ++i) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) ::_exit(worker() ? 0 : 1);
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  std::ifstream in(marker);
  std::string computed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(computed == "x");
}

TEST_CASE("feature cache: the key changes with the backbone, the inputs and the config") {
  const fm::TensorSet data{at::ones({2, 1, 28, 28}), at::zeros({2}, at::kLong)};
  const fm::TensorSet other{at::zeros({2, 1, 28, 28}), at::zeros({2}, at::kLong)};
  const std::vector<at::Tensor> w = {at::ones({3})}, w2 = {at::full({3}, 2.0)};
  const std::string k = fm::feature_cache_key("{}", w, {&data});
  CHECK(k == fm::feature_cache_key("{}", w, {&data}));
  CHECK(k != fm::feature_cache_key("{}", w2, {&data}));
  CHECK(k != fm::feature_cache_key("{}", w, {&other}));
  CHECK(k != fm::feature_cache_key("{\"layout\":1}", w, {&data}));
}
