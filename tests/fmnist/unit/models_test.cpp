// SPDX-License-Identifier: Apache-2.0
// SmallCNN and MobileNetV2: shapes, freezing, weight archives.
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>

#include "fmnist/models.h"

#include <doctest/doctest.h>

#include "support/test_support.h"

using mlflow::StatusCode;
using mlflow::testing::TempDir;
using mlflow::testing::write_file;
namespace fm = mlflow::fmnist;

namespace {

fm::Classifier build(const std::string& arch, double width = 0.5, std::int64_t classes = 10,
                     std::uint64_t seed = 1) {
  auto m = fm::make_classifier({arch, width, classes, 0.25}, seed);
  REQUIRE_MESSAGE(m.ok(), m.status().to_string());
  return *m;
}

bool same_tensors(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].equal(b[i])) return false;
  }
  return true;
}

std::vector<at::Tensor> clones(const std::vector<at::Tensor>& v) {
  std::vector<at::Tensor> out;
  for (const auto& t : v) out.push_back(t.detach().clone());
  return out;
}

}  // namespace

TEST_CASE("models: output and feature shapes for both architectures") {
  for (const char* arch : {fm::kSmallCnn, fm::kMobileNetV2}) {
    CAPTURE(arch);
    auto m = build(arch);
    m->eval();
    const at::Tensor x = at::randn({3, 1, 28, 28});
    CHECK(m->forward(x).sizes().vec() == std::vector<std::int64_t>{3, 10});
    CHECK(m->features(x).sizes().vec() == std::vector<std::int64_t>{3, m->feature_size()});
    CHECK(m->classify(m->features(x)).sizes().vec() == std::vector<std::int64_t>{3, 10});
  }
  CHECK(build(fm::kSmallCnn)->feature_size() == 64 * 7 * 7);
  CHECK(build(fm::kMobileNetV2, 1.0, 4)->forward(at::randn({2, 1, 28, 28})).size(1) == 4);
}

TEST_CASE("models: the width multiplier scales MobileNetV2") {
  CHECK(fm::count_parameters(*build(fm::kMobileNetV2, 0.5)) <
        fm::count_parameters(*build(fm::kMobileNetV2, 1.0)));
}

TEST_CASE("models: the same seed builds the same weights") {
  CHECK(same_tensors(build(fm::kSmallCnn, 1, 10, 7)->parameters(),
                     build(fm::kSmallCnn, 1, 10, 7)->parameters()));
  CHECK_FALSE(same_tensors(build(fm::kSmallCnn, 1, 10, 7)->parameters(),
                           build(fm::kSmallCnn, 1, 10, 8)->parameters()));
}

TEST_CASE("models: bad configs are refused naming the field") {
  auto bad_arch = fm::make_classifier({"resnet", 1.0, 10, 0.2}, 1);
  REQUIRE_FALSE(bad_arch.ok());
  CHECK(bad_arch.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad_arch.status().message().find("resnet") != std::string::npos);
  CHECK_FALSE(fm::make_classifier({fm::kMobileNetV2, 0.1, 10, 0.2}, 1).ok());
  CHECK_FALSE(fm::make_classifier({fm::kSmallCnn, 1.0, 1, 0.2}, 1).ok());
  CHECK_FALSE(fm::make_classifier({fm::kSmallCnn, 1.0, 10, 1.0}, 1).ok());
}

TEST_CASE("models: config JSON round trip") {
  fm::ModelConfig c{fm::kMobileNetV2, 0.75, 4, 0.1};
  auto back = fm::ModelConfig::from_json(c.to_json(), "test");
  REQUIRE(back.ok());
  CHECK(back->architecture == c.architecture);
  CHECK(back->width_multiplier == c.width_multiplier);
  CHECK(back->num_classes == 4);
  auto bad = fm::ModelConfig::from_json("[1,2]", "MLmodel of x");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("MLmodel of x") != std::string::npos);
}

TEST_CASE(
    "models: a frozen backbone keeps its weights and batch-norm statistics through a training "
    "step") {
  for (const char* arch : {fm::kSmallCnn, fm::kMobileNetV2}) {
    CAPTURE(arch);
    auto m = build(arch);
    m->set_backbone_frozen(true);
    m->train();
    CHECK_FALSE(m->backbone->is_training());
    CHECK(m->head->is_training());
    const auto backbone_before = clones(m->backbone->parameters());
    const auto buffers_before = clones(m->backbone->buffers());
    const auto head_before = clones(m->head->parameters());
    std::vector<at::Tensor> trainable;
    for (const auto& p : m->parameters()) {
      if (p.requires_grad()) trainable.push_back(p);
    }
    CHECK(fm::count_parameters(*m, true) == fm::count_parameters(*m->head));
    torch::optim::Adam opt(trainable, torch::optim::AdamOptions(0.01));
    const at::Tensor x = at::randn({8, 1, 28, 28});
    const at::Tensor y = at::randint(0, 10, {8}, at::kLong);
    opt.zero_grad();
    torch::nn::functional::cross_entropy(m->forward(x), y).backward();
    opt.step();
    CHECK(same_tensors(m->backbone->parameters(), backbone_before));
    CHECK(same_tensors(m->backbone->buffers(), buffers_before));
    CHECK_FALSE(same_tensors(m->head->parameters(), head_before));
    for (const auto& p : m->backbone->parameters()) CHECK_FALSE(p.grad().defined());
  }
}

TEST_CASE("models: unfreezing trains the backbone again") {
  auto m = build(fm::kSmallCnn);
  m->set_backbone_frozen(true);
  m->set_backbone_frozen(false);
  m->train();
  CHECK(m->backbone->is_training());
  CHECK(fm::count_parameters(*m, true) == fm::count_parameters(*m));
}

TEST_CASE("models: weights and backbone archives round trip") {
  TempDir dir;
  auto a = build(fm::kSmallCnn, 1, 10, 1);
  auto b = build(fm::kSmallCnn, 1, 10, 2);
  a->eval();
  b->eval();
  const at::Tensor x = at::randn({4, 1, 28, 28});
  REQUIRE(fm::save_weights(a, dir.path() + "/m.pt").ok());
  REQUIRE(fm::load_weights(b, dir.path() + "/m.pt").ok());
  CHECK(a->forward(x).equal(b->forward(x)));

  auto c = build(fm::kSmallCnn, 1, 4, 3);
  REQUIRE(fm::save_backbone(a, dir.path() + "/bb.pt").ok());
  REQUIRE(fm::load_backbone(c, dir.path() + "/bb.pt").ok());
  c->eval();
  CHECK(a->features(x).equal(c->features(x)));

  auto d = build(fm::kSmallCnn, 1, 4, 4);
  REQUIRE(fm::copy_backbone(a, d).ok());
  d->eval();
  CHECK(a->features(x).equal(d->features(x)));
}

TEST_CASE("models: loading the wrong file fails with its path") {
  TempDir dir;
  auto m = build(fm::kSmallCnn);
  auto missing = fm::load_weights(m, dir.path() + "/nope.pt");
  CHECK(missing.code() == StatusCode::kNotFound);
  CHECK(missing.message().find("nope.pt") != std::string::npos);

  write_file(dir.path() + "/junk.pt", "not an archive");
  auto junk = fm::load_weights(m, dir.path() + "/junk.pt");
  CHECK(junk.code() == StatusCode::kInvalidArgument);
  CHECK(junk.message().find("junk.pt") != std::string::npos);

  auto mobile = build(fm::kMobileNetV2);
  REQUIRE(fm::save_weights(mobile, dir.path() + "/mobile.pt").ok());
  auto mismatch = fm::load_weights(m, dir.path() + "/mobile.pt");
  CHECK(mismatch.code() == StatusCode::kInvalidArgument);
  CHECK_FALSE(fm::copy_backbone(mobile, m).ok());
}

TEST_CASE(
    "models: MobileNetV2's small layout pools five stages; the paper's layout keeps its last "
    "layer") {
  fm::ModelConfig small{fm::kMobileNetV2, 0.5, 10, 0.25};
  auto s = fm::make_classifier(small, 1);
  REQUIRE(s.ok());
  (*s)->eval();
  // Stages 3-7 at width 0.5: 16 channels at 7x7 (pooled to 4x4), 32 and 48 at 4x4, 80 and 160 at
  // 2x2.
  CHECK((*s)->feature_size() == 16 * 16 + 32 * 16 + 48 * 16 + 80 * 4 + 160 * 4);
  CHECK((*s)->embedding_size() == 160);
  const at::Tensor x = at::randn({2, 1, 28, 28});
  CHECK((*s)->features(x).size(1) == (*s)->feature_size());
  CHECK((*s)->embedding(x).sizes().vec() == std::vector<std::int64_t>{2, 160});
  fm::ModelConfig paper = small;
  paper.layout = fm::kLayoutImagenet;
  auto p = fm::make_classifier(paper, 1);
  REQUIRE(p.ok());
  CHECK((*p)->feature_size() == 1280);
  CHECK_FALSE(fm::make_classifier({fm::kMobileNetV2, 0.5, 10, 0.25, "tiny"}, 1).ok());
}

TEST_CASE("models: pixels has no backbone weights; a linear head is one layer after a batch norm") {
  auto m = fm::make_classifier({fm::kPixels, 1.0, 10, 0.25, fm::kLayoutSmall, fm::kHeadLinear}, 1);
  REQUIRE(m.ok());
  CHECK((*m)->feature_size() == 784);
  CHECK(fm::count_parameters(*(*m)->backbone) == 0);
  CHECK(fm::count_parameters(**m) == 784 * 2 + 784 * 10 + 10);
}

TEST_CASE("models: a config saved before layouts existed reads as the paper's MobileNetV2") {
  auto old = fm::ModelConfig::from_json(
      R"({"architecture":"mobilenet_v2","width_multiplier":1.0,"num_classes":4})",
      "an old MLmodel");
  REQUIRE(old.ok());
  CHECK(old->layout == fm::kLayoutImagenet);
  CHECK(old->head == fm::kHeadMlp);
  CHECK(old->input == fm::kFmnistInput);
}

TEST_CASE(
    "models: copying a backbone of another shape names the first tensor and both shapes, copies "
    "nothing") {
  auto a = build(fm::kMobileNetV2, 0.5);
  auto b = build(fm::kMobileNetV2, 1.0);
  const auto before = clones(b->backbone->parameters());
  const auto s = fm::copy_backbone(a, b);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("'0.weight'") != std::string::npos);
  CHECK(s.message().find("[16, 1, 3, 3]") != std::string::npos);
  CHECK(s.message().find("[32, 1, 3, 3]") != std::string::npos);
  CHECK(same_tensors(b->backbone->parameters(), before));
}
