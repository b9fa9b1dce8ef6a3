// SPDX-License-Identifier: Apache-2.0
// SimCLR's views and loss.
#include <ATen/ATen.h>

#include "fmnist/contrastive.h"
#include "fmnist/fmnist_data.h"

#include <doctest/doctest.h>

namespace fm = mlflow::fmnist;

namespace {
const double kBackground = (0.0 - fm::kFmnistPixelMean) / fm::kFmnistPixelStd;
}

TEST_CASE("contrastive views: seeded, shaped like the input, different per seed") {
  const at::Tensor images = at::rand({8, 1, 28, 28});
  const at::Tensor a = fm::contrastive_view(images, 7);
  CHECK(a.sizes() == images.sizes());
  CHECK(a.equal(fm::contrastive_view(images, 7)));
  CHECK_FALSE(a.equal(fm::contrastive_view(images, 8)));
  CHECK_FALSE(a.equal(images));
}

TEST_CASE("contrastive views: an image of background stays background without jitter") {
  fm::ViewAugmentation no_jitter;
  no_jitter.jitter_probability = 0;
  const at::Tensor blank = at::full({4, 1, 28, 28}, kBackground);
  CHECK(at::allclose(fm::contrastive_view(blank, 3, no_jitter), blank, 1e-5, 1e-5));
}

TEST_CASE("contrastive views: with the full area and no jitter a view is the image or its mirror") {
  fm::ViewAugmentation identity;
  identity.min_area = 1.0;
  identity.max_log_aspect = 0;
  identity.jitter_probability = 0;
  const at::Tensor images = at::rand({16, 1, 28, 28});
  const at::Tensor v = fm::contrastive_view(images, 11, identity);
  for (std::int64_t i = 0; i < 16; ++i) {
    const bool same = at::allclose(v[i], images[i], 1e-4, 1e-4);
    const bool mirrored = at::allclose(v[i], images[i].flip({2}), 1e-4, 1e-4);
    CHECK((same || mirrored));
  }
}

TEST_CASE("NT-Xent: partners that are the most similar give low loss and full accuracy") {
  const at::Tensor z = at::randn({6, 16});
  const fm::ContrastiveLoss matched =
      fm::nt_xent_loss(at::cat({z, z + 0.01 * at::randn({6, 16})}), 0.1);
  CHECK(matched.correct == 12);
  CHECK(matched.count == 12);
  const fm::ContrastiveLoss shuffled = fm::nt_xent_loss(at::cat({z, at::randn({6, 16})}), 0.1);
  CHECK(shuffled.loss.item<double>() > matched.loss.item<double>());
  CHECK(matched.loss.requires_grad() == false);
}

TEST_CASE("NT-Xent: the loss has a gradient for the projections") {
  const at::Tensor z = at::randn({8, 4}).set_requires_grad(true);
  fm::nt_xent_loss(z, 0.5).loss.backward();
  REQUIRE(z.grad().defined());
  CHECK(z.grad().abs().sum().item<double>() > 0);
}
