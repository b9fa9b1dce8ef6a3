// SPDX-License-Identifier: Apache-2.0
// SmallCNN and MobileNetV2: shapes, freezing, weight archives.
#include <torch/optim/adam.h>
#include <torch/nn/functional/loss.h>

#include "mlflow/libtorch/models.h"

#include <doctest/doctest.h>

#include "support/test_support.h"

using mlflow::StatusCode;
using mlflow::testing::TempDir;
using mlflow::testing::write_file;
namespace ml = mlflow::libtorch;

namespace {

ml::Classifier build(const std::string& arch, double width = 0.5, std::int64_t classes = 10, std::uint64_t seed = 1) {
  auto m = ml::make_classifier({arch, width, classes, 0.25}, seed);
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
  for (const char* arch : {ml::kSmallCnn, ml::kMobileNetV2}) {
    CAPTURE(arch);
    auto m = build(arch);
    m->eval();
    const at::Tensor x = at::randn({3, 1, 28, 28});
    CHECK(m->forward(x).sizes().vec() == std::vector<std::int64_t>{3, 10});
    CHECK(m->features(x).sizes().vec() == std::vector<std::int64_t>{3, m->feature_size()});
    CHECK(m->classify(m->features(x)).sizes().vec() == std::vector<std::int64_t>{3, 10});
  }
  CHECK(build(ml::kSmallCnn)->feature_size() == 64 * 7 * 7);
  CHECK(build(ml::kMobileNetV2, 1.0, 4)->forward(at::randn({2, 1, 28, 28})).size(1) == 4);
}

TEST_CASE("models: the width multiplier scales MobileNetV2") {
  CHECK(ml::count_parameters(*build(ml::kMobileNetV2, 0.5)) < ml::count_parameters(*build(ml::kMobileNetV2, 1.0)));
}

TEST_CASE("models: the same seed builds the same weights") {
  CHECK(same_tensors(build(ml::kSmallCnn, 1, 10, 7)->parameters(), build(ml::kSmallCnn, 1, 10, 7)->parameters()));
  CHECK_FALSE(same_tensors(build(ml::kSmallCnn, 1, 10, 7)->parameters(), build(ml::kSmallCnn, 1, 10, 8)->parameters()));
}

TEST_CASE("models: bad configs are refused naming the field") {
  auto bad_arch = ml::make_classifier({"resnet", 1.0, 10, 0.2}, 1);
  REQUIRE_FALSE(bad_arch.ok());
  CHECK(bad_arch.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad_arch.status().message().find("resnet") != std::string::npos);
  CHECK_FALSE(ml::make_classifier({ml::kMobileNetV2, 0.1, 10, 0.2}, 1).ok());
  CHECK_FALSE(ml::make_classifier({ml::kSmallCnn, 1.0, 1, 0.2}, 1).ok());
  CHECK_FALSE(ml::make_classifier({ml::kSmallCnn, 1.0, 10, 1.0}, 1).ok());
}

TEST_CASE("models: config JSON round trip") {
  ml::ModelConfig c{ml::kMobileNetV2, 0.75, 4, 0.1};
  auto back = ml::ModelConfig::from_json(c.to_json(), "test");
  REQUIRE(back.ok());
  CHECK(back->architecture == c.architecture);
  CHECK(back->width_multiplier == c.width_multiplier);
  CHECK(back->num_classes == 4);
  auto bad = ml::ModelConfig::from_json("[1,2]", "MLmodel of x");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("MLmodel of x") != std::string::npos);
}

TEST_CASE("models: a frozen backbone keeps its weights and batch-norm statistics through a training step") {
  for (const char* arch : {ml::kSmallCnn, ml::kMobileNetV2}) {
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
    CHECK(ml::count_parameters(*m, true) == ml::count_parameters(*m->head));
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
  auto m = build(ml::kSmallCnn);
  m->set_backbone_frozen(true);
  m->set_backbone_frozen(false);
  m->train();
  CHECK(m->backbone->is_training());
  CHECK(ml::count_parameters(*m, true) == ml::count_parameters(*m));
}

TEST_CASE("models: weights and backbone archives round trip") {
  TempDir dir;
  auto a = build(ml::kSmallCnn, 1, 10, 1);
  auto b = build(ml::kSmallCnn, 1, 10, 2);
  a->eval();
  b->eval();
  const at::Tensor x = at::randn({4, 1, 28, 28});
  REQUIRE(ml::save_weights(a, dir.path() + "/m.pt").ok());
  REQUIRE(ml::load_weights(b, dir.path() + "/m.pt").ok());
  CHECK(a->forward(x).equal(b->forward(x)));

  auto c = build(ml::kSmallCnn, 1, 4, 3);
  REQUIRE(ml::save_backbone(a, dir.path() + "/bb.pt").ok());
  REQUIRE(ml::load_backbone(c, dir.path() + "/bb.pt").ok());
  c->eval();
  CHECK(a->features(x).equal(c->features(x)));

  auto d = build(ml::kSmallCnn, 1, 4, 4);
  REQUIRE(ml::copy_backbone(a, d).ok());
  d->eval();
  CHECK(a->features(x).equal(d->features(x)));
}

TEST_CASE("models: loading the wrong file fails with its path") {
  TempDir dir;
  auto m = build(ml::kSmallCnn);
  auto missing = ml::load_weights(m, dir.path() + "/nope.pt");
  CHECK(missing.code() == StatusCode::kNotFound);
  CHECK(missing.message().find("nope.pt") != std::string::npos);

  write_file(dir.path() + "/junk.pt", "not an archive");
  auto junk = ml::load_weights(m, dir.path() + "/junk.pt");
  CHECK(junk.code() == StatusCode::kInvalidArgument);
  CHECK(junk.message().find("junk.pt") != std::string::npos);

  auto mobile = build(ml::kMobileNetV2);
  REQUIRE(ml::save_weights(mobile, dir.path() + "/mobile.pt").ok());
  auto mismatch = ml::load_weights(m, dir.path() + "/mobile.pt");
  CHECK(mismatch.code() == StatusCode::kInvalidArgument);
  CHECK_FALSE(ml::copy_backbone(mobile, m).ok());
}

TEST_CASE("models: MobileNetV2's small layout pools five stages; the paper's layout keeps its last layer") {
  ml::ModelConfig small{ml::kMobileNetV2, 0.5, 10, 0.25};
  auto s = ml::make_classifier(small, 1);
  REQUIRE(s.ok());
  (*s)->eval();
  // Stages 3-7 at width 0.5: 16 channels at 7x7 (pooled to 4x4), 32 and 48 at 4x4, 80 and 160 at 2x2.
  CHECK((*s)->feature_size() == 16 * 16 + 32 * 16 + 48 * 16 + 80 * 4 + 160 * 4);
  CHECK((*s)->embedding_size() == 160);
  const at::Tensor x = at::randn({2, 1, 28, 28});
  CHECK((*s)->features(x).size(1) == (*s)->feature_size());
  CHECK((*s)->embedding(x).sizes().vec() == std::vector<std::int64_t>{2, 160});
  ml::ModelConfig paper = small;
  paper.layout = ml::kLayoutImagenet;
  auto p = ml::make_classifier(paper, 1);
  REQUIRE(p.ok());
  CHECK((*p)->feature_size() == 1280);
  CHECK_FALSE(ml::make_classifier({ml::kMobileNetV2, 0.5, 10, 0.25, "tiny"}, 1).ok());
}

TEST_CASE("models: pixels has no backbone weights; a linear head is one layer after a batch norm") {
  auto m = ml::make_classifier({ml::kPixels, 1.0, 10, 0.25, ml::kLayoutSmall, ml::kHeadLinear}, 1);
  REQUIRE(m.ok());
  CHECK((*m)->feature_size() == 784);
  CHECK(ml::count_parameters(*(*m)->backbone) == 0);
  CHECK(ml::count_parameters(**m) == 784 * 2 + 784 * 10 + 10);
}

TEST_CASE("models: a config saved before layouts existed reads as the paper's MobileNetV2") {
  auto old = ml::ModelConfig::from_json(R"({"architecture":"mobilenet_v2","width_multiplier":1.0,"num_classes":4})",
                                        "an old MLmodel");
  REQUIRE(old.ok());
  CHECK(old->layout == ml::kLayoutImagenet);
  CHECK(old->head == ml::kHeadMlp);
  CHECK(old->input == ml::kFmnistInput);
}

TEST_CASE("models: copying a backbone of another shape names the first tensor and both shapes, copies nothing") {
  auto a = build(ml::kMobileNetV2, 0.5);
  auto b = build(ml::kMobileNetV2, 1.0);
  const auto before = clones(b->backbone->parameters());
  const auto s = ml::copy_backbone(a, b);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find("'0.weight'") != std::string::npos);
  CHECK(s.message().find("[16, 1, 3, 3]") != std::string::npos);
  CHECK(s.message().find("[32, 1, 3, 3]") != std::string::npos);
  CHECK(same_tensors(b->backbone->parameters(), before));
}
