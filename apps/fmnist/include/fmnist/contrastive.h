// SPDX-License-Identifier: Apache-2.0
// Contrastive self-supervised pretraining (SimCLR): random views of images and the NT-Xent loss.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace mlflow::fmnist {

/// How a view differs from its image. The defaults suit 28x28 Fashion-MNIST, where a garment fills
/// the frame and colour does not exist: mostly geometry, plus contrast and brightness.
struct ViewAugmentation {
  double min_area = 0.35;         ///< the crop keeps this much of the image's area at the least...
  double max_log_aspect = 0.288;  ///< ...with an aspect ratio within exp(±this) (3/4 .. 4/3)
  double contrast = 0.4;          ///< contrast scaled by 1 ± this
  double brightness = 0.4;        ///< shifted by ± this (normalised units)...
  double jitter_probability = 0.8;  ///< ...in this fraction of views
};

/// One random view of every image of `images` (B x 1 x H x W, normalised): a random crop resized
/// back to H x W (bilinear, background outside the image), mirrored half of the time, contrast and
/// brightness jittered. Drawn from `seed` with std::mt19937_64 on the host: the same seed gives the
/// same views on every machine. A new tensor.
at::Tensor contrastive_view(const at::Tensor& images, std::uint64_t seed,
                            const ViewAugmentation& options = {});

/// NT-Xent over `z`, 2B projections where row i and row i + B are views of the same image: each row
/// must pick its partner among the other 2B - 1 by cosine similarity / `temperature`. `correct`
/// counts the rows whose most similar other row is their partner (the pretext task's accuracy).
struct ContrastiveLoss {
  at::Tensor loss;  ///< mean over the 2B rows; differentiable
  std::int64_t correct = 0;
  std::int64_t count = 0;
};
ContrastiveLoss nt_xent_loss(const at::Tensor& z, double temperature);

}  // namespace mlflow::fmnist
