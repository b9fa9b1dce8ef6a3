// SPDX-License-Identifier: Apache-2.0
// Reads gzip IDX files with zlib's gz* stream API and checks their header and size.
#include "mlflow/libtorch/idx_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace mlflow::libtorch {
namespace {

// More than any real IDX data set; protects the allocation from a corrupt header.
constexpr std::int64_t kMaxIdxBytes = std::int64_t{1} << 32;

Status file_error(const std::string& path, StatusCode code, const std::string& what) {
  return Status(code, path + ": " + what);
}

Status corrupt(const std::string& path, const std::string& what) {
  return file_error(path, StatusCode::kInvalidArgument, what);
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// An open gzip stream positioned after the magic number, which is checked here.
class IdxStream {
 public:
  static StatusOr<IdxStream> open(const std::string& path, std::uint32_t magic, const char* kind) {
    std::error_code ec;
    auto st = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(st))
      return file_error(path, StatusCode::kNotFound, "no such file");
    if (!std::filesystem::is_regular_file(st)) return corrupt(path, "not a regular file");
    // Checked before zlib sees it: gzread would silently pass an uncompressed file through.
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> raw(std::fopen(path.c_str(), "rb"),
                                                        &std::fclose);
    if (!raw) {
      int err = errno;
      return file_error(path, err == EACCES ? StatusCode::kPermissionDenied : StatusCode::kInternal,
                        std::string("cannot open: ") + std::strerror(err));
    }
    unsigned char id[2] = {0, 0};
    if (std::fread(id, 1, 2, raw.get()) != 2 || id[0] != 0x1f || id[1] != 0x8b) {
      return corrupt(
          path, "not a gzip file (IDX files are read gzip-compressed, as Debian installs them)");
    }
    raw.reset();
    IdxStream s(path);
    s.gz_.reset(gzopen(path.c_str(), "rb"));
    if (!s.gz_) return file_error(path, StatusCode::kInternal, "gzopen failed");
    std::uint32_t got = 0;
    MLFLOW_CPP_RETURN_IF_ERROR(s.read_u32("magic number", &got));
    if (got != magic) {
      return corrupt(path, "wrong magic number " + hex32(got) + ", expected " + hex32(magic) +
                               " (" + kind + ")");
    }
    return s;
  }

  // A big-endian 32-bit header field.
  Status read_u32(const char* what, std::uint32_t* out) {
    unsigned char b[4];
    std::int64_t got = 0;
    MLFLOW_CPP_RETURN_IF_ERROR(read_bytes(b, 4, &got));
    if (got != 4) return corrupt(path_, std::string("truncated header: no ") + what);
    *out = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           b[3];
    return ok_status();
  }

  // Reads exactly `count` payload bytes of `what`, then checks that the file ends there.
  Status read_payload(std::int64_t count, const char* what, std::vector<std::uint8_t>* out) {
    out->resize(static_cast<std::size_t>(count));
    std::int64_t got = 0;
    MLFLOW_CPP_RETURN_IF_ERROR(read_bytes(out->data(), count, &got));
    if (got != count) {
      return corrupt(path_, "truncated: expected " + std::to_string(count) + " bytes of " + what +
                                ", got " + std::to_string(got));
    }
    unsigned char extra[4096];
    std::int64_t trailing = 0;
    for (;;) {
      std::int64_t n = 0;
      MLFLOW_CPP_RETURN_IF_ERROR(read_bytes(extra, sizeof extra, &n));
      if (n == 0) break;
      trailing += n;
    }
    if (trailing > 0) {
      return corrupt(path_, std::to_string(trailing) + " bytes of trailing data after " +
                                std::to_string(count) + " bytes of " + what);
    }
    return ok_status();
  }

  const std::string& path() const { return path_; }

 private:
  explicit IdxStream(std::string path) : path_(std::move(path)) {}

  // Reads up to `want` bytes; stops early only at the end of the data. A gzip stream cut short
  // (Z_BUF_ERROR) counts as the end: the caller reports the missing bytes, which says more.
  Status read_bytes(void* dst, std::int64_t want, std::int64_t* got) {
    auto* p = static_cast<unsigned char*>(dst);
    *got = 0;
    while (*got < want) {
      auto chunk = static_cast<unsigned>(std::min<std::int64_t>(want - *got, 1 << 30));
      int n = gzread(gz_.get(), p + *got, chunk);
      if (n > 0) {
        *got += n;
        continue;
      }
      int errnum = Z_OK;
      const char* msg = gzerror(gz_.get(), &errnum);
      if (n < 0 && errnum != Z_BUF_ERROR) {
        return corrupt(path_,
                       std::string("corrupt gzip data: ") + (msg ? msg : "unknown zlib error"));
      }
      break;
    }
    return ok_status();
  }

  std::string path_;
  GzFile gz_;
};

}  // namespace

StatusOr<IdxImages> read_idx_images(const std::string& path, std::int64_t rows, std::int64_t cols) {
  auto stream = IdxStream::open(path, kIdxImagesMagic, "IDX images of unsigned bytes");
  if (!stream.ok()) return stream.status();
  std::uint32_t n = 0, r = 0, c = 0;
  MLFLOW_CPP_RETURN_IF_ERROR(stream->read_u32("image count", &n));
  MLFLOW_CPP_RETURN_IF_ERROR(stream->read_u32("row count", &r));
  MLFLOW_CPP_RETURN_IF_ERROR(stream->read_u32("column count", &c));
  if (r != rows || c != cols) {
    return corrupt(path, "images are " + std::to_string(r) + "x" + std::to_string(c) +
                             ", expected " + std::to_string(rows) + "x" + std::to_string(cols));
  }
  IdxImages out;
  out.n = n;
  out.rows = rows;
  out.cols = cols;
  const std::int64_t bytes = out.n * rows * cols;
  if (bytes > kMaxIdxBytes) return corrupt(path, "implausible image count " + std::to_string(n));
  MLFLOW_CPP_RETURN_IF_ERROR(stream->read_payload(bytes, "pixels", &out.pixels));
  return out;
}

StatusOr<std::vector<std::uint8_t>> read_idx_labels(const std::string& path, int num_classes) {
  auto stream = IdxStream::open(path, kIdxLabelsMagic, "IDX labels of unsigned bytes");
  if (!stream.ok()) return stream.status();
  std::uint32_t n = 0;
  MLFLOW_CPP_RETURN_IF_ERROR(stream->read_u32("label count", &n));
  std::vector<std::uint8_t> labels;
  MLFLOW_CPP_RETURN_IF_ERROR(stream->read_payload(n, "labels", &labels));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] >= num_classes) {
      return corrupt(path, "label " + std::to_string(labels[i]) + " at index " + std::to_string(i) +
                               " is out of range 0.." + std::to_string(num_classes - 1));
    }
  }
  return labels;
}

}  // namespace mlflow::libtorch
