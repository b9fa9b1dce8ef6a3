// SPDX-License-Identifier: Apache-2.0
// The on-disk feature cache: content-addressed LibTorch archives, flock for concurrent processes,
// LRU by mtime.
#include "fmnist/feature_cache.h"
#include "mlflow/atomic_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include <torch/serialize/archive.h>

#include "mlflow/training/dataset_lineage.h"

namespace mlflow::fmnist {
namespace {

namespace fs = std::filesystem;

std::string tensor_digest(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  std::ostringstream shape;
  shape << c.scalar_type() << c.sizes();
  return shape.str() + ":" + training::sha256_hex(c.data_ptr(), c.numel() * c.element_size());
}

StatusOr<std::string> file_sha256(const fs::path& p) { return training::sha256_file(p.string()); }

// An exclusive flock held for the object's life; released (and the descriptor closed) on
// destruction.
class FileLock {
 public:
  static StatusOr<FileLock> acquire(const fs::path& path, const std::function<bool()>& cancelled,
                                    std::chrono::milliseconds poll) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status(StatusCode::kPermissionDenied, "cannot open lock " + path.string());
    FileLock lock(fd);
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (cancelled && cancelled())
        return Status(StatusCode::kCancelled, "cancelled while waiting for " + path.string());
      std::this_thread::sleep_for(poll);
    }
    return lock;
  }
  FileLock(FileLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FileLock& operator=(FileLock&&) = delete;
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing drops the lock
  }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

StatusOr<std::vector<TensorSet>> read_entry(const fs::path& archive_path,
                                            const fs::path& digest_path) {
  std::ifstream in(digest_path);
  std::string expected;
  if (!(in >> expected)) return Status(StatusCode::kNotFound, "no complete entry");
  auto actual = file_sha256(archive_path);
  if (!actual.ok()) return actual.status();
  if (*actual != expected) {
    return Status(StatusCode::kDataLoss,
                  archive_path.string() + " is corrupt or truncated (sha256 differs)");
  }
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(archive_path.string());
    at::Tensor count;
    archive.read("count", count);
    std::vector<TensorSet> sets(static_cast<std::size_t>(count.item<std::int64_t>()));
    for (std::size_t i = 0; i < sets.size(); ++i) {
      archive.read("features" + std::to_string(i), sets[i].images);
      archive.read("labels" + std::to_string(i), sets[i].labels);
    }
    return sets;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    return Status(StatusCode::kDataLoss,
                  archive_path.string() + ": " + msg.substr(0, msg.find('\n')));
  }
}

Status write_entry(const fs::path& archive_path, const fs::path& digest_path,
                   const std::vector<TensorSet>& sets) {
  auto file = AtomicFile::create(archive_path.string());
  if (!file.ok()) return file.status();
  try {
    torch::serialize::OutputArchive archive;
    archive.write("count", at::scalar_tensor(static_cast<std::int64_t>(sets.size()), at::kLong));
    for (std::size_t i = 0; i < sets.size(); ++i) {
      archive.write("features" + std::to_string(i), sets[i].images);
      archive.write("labels" + std::to_string(i), sets[i].labels);
    }
    archive.save_to(file->temp_path());
  } catch (const std::exception& e) {
    std::string msg = e.what();
    return Status(StatusCode::kInternal,
                  "cannot write " + archive_path.string() + ": " + msg.substr(0, msg.find('\n')));
  }
  auto digest = file_sha256(file->temp_path());
  if (!digest.ok()) return digest.status();
  // The archive first, its digest last: a reader trusts an entry only once both are there and
  // agree.
  MLFLOW_CPP_RETURN_IF_ERROR(file->commit());
  return write_file_atomically(digest_path.string(), *digest + "\n");
}

// Removes the least recently used entries (by the archive's mtime, which a read refreshes) beyond
// max_bytes.
void evict(const fs::path& dir, std::uint64_t max_bytes, const std::string& keep) {
  struct Entry {
    fs::file_time_type used;
    std::uint64_t bytes;
    fs::path archive;
  };
  std::vector<Entry> entries;
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir, ec)) {
    if (f.path().extension() != ".pt") continue;
    const std::uint64_t bytes = fs::file_size(f.path(), ec);
    if (ec) continue;
    entries.push_back({fs::last_write_time(f.path(), ec), bytes, f.path()});
    total += bytes;
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.used < b.used; });
  for (const Entry& e : entries) {
    if (total <= max_bytes) break;
    if (e.archive.stem() == keep) continue;
    fs::path digest = e.archive;
    digest.replace_extension(".sha256");
    fs::remove(digest, ec);  // the digest first: a reader never trusts a half-removed entry
    fs::remove(e.archive, ec);
    total -= e.bytes;
  }
}

}  // namespace

std::string default_feature_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    return std::string(xdg) + "/mlflow-cpp/features";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.cache/mlflow-cpp/features";
  }
  return {};
}

std::string feature_cache_key(const std::string& model_config_json,
                              const std::vector<at::Tensor>& backbone_state,
                              const std::vector<const TensorSet*>& inputs,
                              const std::string& extra) {
  std::string text = "mlflow-cpp features v1\n" + model_config_json + "\n" + extra + "\n";
  for (const at::Tensor& t : backbone_state) text += tensor_digest(t) + "\n";
  for (const TensorSet* s : inputs)
    text += tensor_digest(s->images) + " " + tensor_digest(s->labels) + "\n";
  return training::sha256_hex(text);
}

void FeatureCache::warn(const std::string& message) const {
  if (options_.warn) options_.warn("feature cache: " + message);
}

StatusOr<std::vector<TensorSet>> FeatureCache::get_or_compute(
    const std::string& key, const Compute& compute, const std::function<bool()>& cancelled,
    bool* hit) {
  if (hit != nullptr) *hit = false;
  if (options_.dir.empty()) return compute();
  const fs::path dir(options_.dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || ::access(dir.c_str(), W_OK) != 0) {
    warn(dir.string() + " is not writable (" + (ec ? ec.message() : "permission denied") +
         "); computing the features without it");
    return compute();
  }
  const fs::path archive = dir / (key + ".pt"), digest = dir / (key + ".sha256");
  auto lock = FileLock::acquire(dir / (key + ".lock"), cancelled, options_.poll);
  if (!lock.ok()) {
    if (lock.status().code() == StatusCode::kCancelled) return lock.status();
    warn(lock.status().message() + "; computing the features without it");
    return compute();
  }
  if (fs::exists(archive, ec) || fs::exists(digest, ec)) {
    auto sets = read_entry(archive, digest);
    if (sets.ok()) {
      fs::last_write_time(archive, fs::file_time_type::clock::now(), ec);  // recently used
      if (hit != nullptr) *hit = true;
      return sets;
    }
    warn(sets.status().message() + "; computing it again");
    fs::remove(digest, ec);
    fs::remove(archive, ec);
  }
  auto sets = compute();
  if (!sets.ok()) return sets;
  if (Status s = write_entry(archive, digest, *sets); !s.ok()) {
    warn(s.message());
  } else {
    evict(dir, options_.max_bytes, key);
  }
  return sets;
}

}  // namespace mlflow::fmnist
