// SPDX-License-Identifier: Apache-2.0
// PCA of the centred data: by the eigenvectors of its covariance when there are more images than
// pixels (the usual case: a 784 x 784 problem after one GEMM, about twice as fast as an SVD of
// 60000 x 784), by SVD otherwise. Per-operator ATen headers only: <torch/torch.h> would cost ~25 s
// to compile.
#include "fmnist/eda_pca.h"

#include <algorithm>
#include <string>
#include <tuple>

#include <ATen/TensorOperators.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/linalg_eigh.h>
#include <ATen/ops/linalg_svd.h>
#include <ATen/ops/matmul.h>
#include <c10/util/Exception.h>

namespace mlflow::fmnist {
namespace {

bool all_images_equal(const std::vector<std::uint8_t>& pixels, std::size_t image_bytes) {
  for (std::size_t i = image_bytes; i < pixels.size(); ++i) {
    if (pixels[i] != pixels[i % image_bytes]) return false;
  }
  return true;
}

}  // namespace

StatusOr<PcaResult> pca_2d(const std::vector<std::uint8_t>& pixels, std::int64_t n,
                           std::int64_t dim, int components) {
  const bool sized = n >= 2 && dim >= 2 &&
                     pixels.size() == static_cast<std::size_t>(n) * static_cast<std::size_t>(dim);
  if (!sized || components < 2) {
    return Status(StatusCode::kInvalidArgument,
                  "PCA needs at least 2 images of at least 2 pixels and 2 components; got " +
                      std::to_string(n) + " images of " + std::to_string(dim) + " pixels (" +
                      std::to_string(pixels.size()) + " bytes) and " + std::to_string(components) +
                      " components");
  }
  // Identical images have no variance; in float arithmetic the centred data would be rounding
  // noise, not zeros.
  if (all_images_equal(pixels, static_cast<std::size_t>(dim))) {
    PcaResult flat;
    flat.explained_variance_ratio.assign(
        static_cast<std::size_t>(std::min<std::int64_t>({components, n, dim})), 0.0);
    flat.x.assign(static_cast<std::size_t>(n), 0.0);
    flat.y.assign(static_cast<std::size_t>(n), 0.0);
    return flat;
  }
  try {
    at::Tensor x =
        at::from_blob(const_cast<std::uint8_t*>(pixels.data()), {n, dim}, at::kByte).to(at::kFloat);
    x.div_(255.0);
    x.sub_(x.mean({0}, /*keepdim=*/true));
    // variance: the squared singular values of x, descending (n - 1 cancels in the ratios); top:
    // the first two components as rows (dim values each); scores: the images' coordinates on them
    // (n x 2).
    at::Tensor variance, top, scores;
    if (n >= dim) {
      // x^T x in float (relative error ~1e-5 over 60000 images: far below the 0.1% the ratios are
      // shown with), its eigen-decomposition in double; eigenvalues ascending.
      at::Tensor eigenvalues, eigenvectors;
      std::tie(eigenvalues, eigenvectors) = at::linalg_eigh(at::matmul(x.t(), x).to(at::kDouble));
      variance = eigenvalues.flip({0}).clamp_min(0.0);  // rounding can leave tiny negative ones
      top = eigenvectors.narrow(1, dim - 2, 2).flip({1}).t().contiguous();
      scores = at::matmul(x.to(at::kDouble), top.t());
    } else {
      at::Tensor u, s, vh;
      std::tie(u, s, vh) = at::linalg_svd(x, /*full_matrices=*/false);
      variance = s.to(at::kDouble).square();
      top = vh.narrow(0, 0, 2).to(at::kDouble);
      scores = (u.narrow(1, 0, 2) * s.narrow(0, 0, 2)).to(at::kDouble);
    }
    scores = scores.contiguous();

    PcaResult r;
    const double total = variance.sum().item<double>();
    const std::int64_t k = std::min<std::int64_t>({components, n, dim});
    for (std::int64_t i = 0; i < k; ++i) {
      r.explained_variance_ratio.push_back(total > 0 ? variance[i].item<double>() / total : 0.0);
    }
    // Each component flipped so that its largest loading is positive.
    const at::Tensor largest = top.abs().argmax(1);
    for (std::int64_t c = 0; c < 2; ++c) {
      if (top[c][largest[c].item<std::int64_t>()].item<double>() < 0) scores.select(1, c).neg_();
    }
    const double* p = scores.data_ptr<double>();
    r.x.resize(static_cast<std::size_t>(n));
    r.y.resize(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      r.x[static_cast<std::size_t>(i)] = p[2 * i];
      r.y[static_cast<std::size_t>(i)] = p[2 * i + 1];
    }
    return r;
  } catch (const c10::Error& e) {
    return Status(StatusCode::kInternal,
                  std::string("PCA failed in LibTorch: ") + e.what_without_backtrace());
  }
}

}  // namespace mlflow::fmnist
