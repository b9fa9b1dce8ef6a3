// SPDX-License-Identifier: Apache-2.0
// Trainer settings: parsing, ranges, YAML files, params.
#include "fmnist/train_config.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "support/test_support.h"

using mlflow::StatusCode;
using mlflow::testing::TempDir;
using mlflow::testing::write_file;
namespace fm = mlflow::fmnist;

TEST_CASE("train_config: defaults are valid and every key is a param") {
  fm::TrainConfig c;
  CHECK(fm::validate_train_config(c).ok());
  const auto params = fm::train_config_params(c);
  CHECK(params.size() == fm::train_config_keys().size());
  for (const char* key :
       {"model", "batch_size", "learning_rate", "max_epochs", "optimizer", "weight_decay", "seed",
        "train_val_split", "frozen_backbone", "backbone_weights", "early_stopping_patience",
        "threads", "augmentation"}) {
    CAPTURE(key);
    CHECK(std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.first == key; }));
  }
}

TEST_CASE("train_config: values round trip through their text") {
  fm::TrainConfig c;
  REQUIRE(fm::set_config_value(c, "learning_rate", "0.0005").ok());
  REQUIRE(fm::set_config_value(c, "frozen_backbone", "true").ok());
  REQUIRE(fm::set_config_value(c, "model", "mobilenet_v2").ok());
  REQUIRE(fm::set_config_value(c, "batch_size", "128").ok());
  fm::TrainConfig d;
  for (const auto& [k, v] : fm::train_config_params(c)) REQUIRE(fm::set_config_value(d, k, v).ok());
  CHECK(d.learning_rate == 0.0005);
  CHECK(d.frozen_backbone);
  CHECK(d.model == "mobilenet_v2");
  CHECK(d.batch_size == 128);
}

TEST_CASE("train_config: bad values name the key and the value") {
  fm::TrainConfig c;
  struct Case {
    const char* key;
    const char* value;
  };
  for (const Case& k :
       {Case{"batch_size", "0"}, Case{"learning_rate", "-0.1"}, Case{"learning_rate", "abc"},
        Case{"model", "resnet"}, Case{"optimizer", "rmsprop"}, Case{"train_val_split", "1"},
        Case{"frozen_backbone", "maybe"}, Case{"max_epochs", "2.5"},
        Case{"learning_rate", "nan"}}) {
    CAPTURE(k.key);
    CAPTURE(k.value);
    const auto s = fm::set_config_value(c, k.key, k.value);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.message().find(k.key) != std::string::npos);
    CHECK(s.message().find(k.value) != std::string::npos);
  }
  const auto unknown = fm::set_config_value(c, "batchsize", "3");
  CHECK(unknown.message().find("unknown setting 'batchsize'") != std::string::npos);
  CHECK(fm::validate_train_config(c).ok());  // nothing was changed by the failures
}

TEST_CASE("train_config: values set in code are checked too") {
  fm::TrainConfig c;
  c.batch_size = 0;
  CHECK(fm::validate_train_config(c).message().find("batch_size") != std::string::npos);
  fm::TrainConfig r;
  r.task = fm::kTaskRotation;
  r.frozen_backbone = true;
  CHECK_FALSE(fm::validate_train_config(r).ok());
}

TEST_CASE("train_config: a YAML file sets values and errors name the file and line") {
  TempDir dir;
  const std::string good = dir.path() + "/good.yaml";
  write_file(
      good, "# reference experiment\nmodel: mobilenet_v2\nbatch_size: 32\nfrozen_backbone: true\n");
  fm::TrainConfig c;
  REQUIRE(fm::apply_config_file(c, good).ok());
  CHECK(c.model == "mobilenet_v2");
  CHECK(c.batch_size == 32);
  CHECK(c.frozen_backbone);

  const std::string bad = dir.path() + "/bad.yaml";
  write_file(bad, "model: small_cnn\n\nbatch_size: -4\n");
  const auto s = fm::apply_config_file(c, bad);
  REQUIRE_FALSE(s.ok());
  CHECK(s.message().find(bad + ":3") != std::string::npos);
  CHECK(s.message().find("batch_size") != std::string::npos);

  write_file(bad, "learning_rate: [1, 2]\n");
  CHECK(fm::apply_config_file(c, bad).message().find("learning_rate") != std::string::npos);
  write_file(bad, "a: b: c\n");
  CHECK(fm::apply_config_file(c, bad).message().find(bad) != std::string::npos);
  CHECK(fm::apply_config_file(c, dir.path() + "/missing.yaml").code() == StatusCode::kNotFound);
}

TEST_CASE("train_config: combinations that cannot train are refused") {
  fm::TrainConfig c;
  c.max_epochs = 0;
  CHECK(fm::validate_train_config(c).message().find("initial_weights") != std::string::npos);
  c.initial_weights = "/some/checkpoint";
  CHECK(fm::validate_train_config(c).ok());
  c.backbone_weights = "models:/x@y";
  CHECK_FALSE(fm::validate_train_config(c).ok());
  fm::TrainConfig p;
  p.model = fm::kPixels;
  p.frozen_backbone = true;
  CHECK(fm::validate_train_config(p).message().find("pixels") != std::string::npos);
  fm::TrainConfig s;
  s.task = fm::kTaskSimclr;
  s.frozen_backbone = true;
  CHECK(fm::validate_train_config(s).message().find("simclr") != std::string::npos);
  CHECK_FALSE(fm::set_config_value(s, "layout", "tiny").ok());
  CHECK(fm::set_config_value(s, "split_seed", "7").ok());
  CHECK(s.split_seed == 7);
}
