// SPDX-License-Identifier: Apache-2.0
// SimCLR's views and loss with per-operator ATen headers (no <torch/torch.h>).
#include "fmnist/contrastive.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <ATen/TensorOperators.h>
#include <ATen/ops/affine_grid_generator.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/cross_entropy_loss.h>
#include <ATen/ops/eye.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/grid_sampler.h>
#include <ATen/ops/linalg_vector_norm.h>
#include <ATen/ops/mm.h>

#include "fmnist/fmnist_data.h"

namespace mlflow::fmnist {
namespace {

// Uniform in [lo, hi) from the generator's top 53 bits: the same numbers with every standard
// library (std::uniform_real_distribution is not specified bit for bit).
double uniform(std::mt19937_64& gen, double lo, double hi) {
  return lo + (hi - lo) * static_cast<double>(gen() >> 11) * 0x1.0p-53;
}

at::Tensor float_tensor(std::vector<float>& v, at::IntArrayRef shape) {
  return at::from_blob(v.data(), shape, at::kFloat).clone();
}

}  // namespace

at::Tensor contrastive_view(const at::Tensor& images, std::uint64_t seed,
                            const ViewAugmentation& o) {
  const std::int64_t b = images.size(0);
  // Per image: the affine map from output to input coordinates (a crop, maybe mirrored), contrast,
  // brightness.
  std::mt19937_64 gen(seed);
  std::vector<float> theta(static_cast<std::size_t>(b) * 6), contrast(static_cast<std::size_t>(b)),
      brightness(static_cast<std::size_t>(b));
  for (std::int64_t i = 0; i < b; ++i) {
    const double side = std::sqrt(uniform(gen, o.min_area, 1.0));
    const double aspect = std::exp(uniform(gen, -o.max_log_aspect, o.max_log_aspect) / 2);
    const double sx = std::min(1.0, side * aspect), sy = std::min(1.0, side / aspect);
    const double tx = (1 - sx) * uniform(gen, -1, 1), ty = (1 - sy) * uniform(gen, -1, 1);
    const double flip = (gen() & 1u) != 0 ? -1.0 : 1.0;
    const bool jitter = uniform(gen, 0, 1) < o.jitter_probability;
    const double c = jitter ? uniform(gen, 1 - o.contrast, 1 + o.contrast) : 1.0;
    const double shift = jitter ? uniform(gen, -o.brightness, o.brightness) : 0.0;
    float* t = &theta[static_cast<std::size_t>(i) * 6];
    t[0] = static_cast<float>(sx * flip), t[1] = 0, t[2] = static_cast<float>(tx);
    t[3] = 0, t[4] = static_cast<float>(sy), t[5] = static_cast<float>(ty);
    contrast[static_cast<std::size_t>(i)] = static_cast<float>(c);
    brightness[static_cast<std::size_t>(i)] = static_cast<float>(shift);
  }
  // Sampled relative to the background, so that what lies outside the image reads as background.
  const double background = (0.0 - kFmnistPixelMean) / kFmnistPixelStd;
  const at::Tensor grid =
      at::affine_grid_generator(float_tensor(theta, {b, 2, 3}), images.sizes(), false);
  const at::Tensor moved =
      at::grid_sampler(images - background, grid, /*bilinear*/ 0, /*zeros*/ 0, false);
  return moved * float_tensor(contrast, {b, 1, 1, 1}) + background +
         float_tensor(brightness, {b, 1, 1, 1});
}

ContrastiveLoss nt_xent_loss(const at::Tensor& z, double temperature) {
  const std::int64_t n = z.size(0), half = n / 2;
  const at::Tensor unit = z / at::linalg_vector_norm(z, 2, {1}, true).clamp_min(1e-12);
  at::Tensor logits = at::mm(unit, unit.t()) / temperature;
  // A row must not pick itself: -inf on the diagonal (a large negative keeps the softmax finite).
  logits = logits - at::eye(n, logits.options()) * 1e9;
  const at::Tensor index = at::arange(n, at::kLong);
  const at::Tensor partner = at::cat({index.narrow(0, half, half), index.narrow(0, 0, half)});
  ContrastiveLoss out;
  out.loss = at::cross_entropy_loss(logits, partner);
  out.correct = logits.detach().argmax(1).eq(partner).sum().item<std::int64_t>();
  out.count = n;
  return out;
}

}  // namespace mlflow::fmnist
