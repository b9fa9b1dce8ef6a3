// SPDX-License-Identifier: Apache-2.0
// The program table the unit tests parse specs with: sweep_runner's two program names, run as
// /bin/true, with a parameter description in the form fmnist_train --describe-params prints (a few
// of its keys, with its types and ranges), so that specs can be checked without the trainer.
#pragma once

#include <doctest/doctest.h>

#include "mlflow/sweep/program.h"

namespace sweep_test {

inline const char* kTrainerParams = R"({"parameters": [
  {"name": "task", "type": "choice", "choices": ["classify", "simclr", "rotation"], "default": "classify"},
  {"name": "model", "type": "choice", "choices": ["small_cnn", "mobilenet_v2", "pixels"], "default": "small_cnn"},
  {"name": "width_multiplier", "type": "float", "min": 0.25, "max": 2},
  {"name": "layout", "type": "choice", "choices": ["small", "imagenet"]},
  {"name": "batch_size", "type": "int", "min": 1, "max": 65536, "default": "64"},
  {"name": "learning_rate", "type": "float", "min": 0, "min_exclusive": true, "max": 10},
  {"name": "max_epochs", "type": "int", "min": 0, "max": 100000},
  {"name": "optimizer", "type": "choice", "choices": ["adam", "adamw", "sgd"]},
  {"name": "seed", "type": "int", "min": 0, "max": 4294967295},
  {"name": "split_seed", "type": "int", "min": 0, "max": 4294967295},
  {"name": "train_val_split", "type": "float", "min": 0, "min_exclusive": true, "max": 0.999},
  {"name": "frozen_backbone", "type": "bool"},
  {"name": "backbone_weights", "type": "string"},
  {"name": "initial_weights", "type": "string"},
  {"name": "early_stopping_patience", "type": "int", "min": 0, "max": 1e9},
  {"name": "temperature", "type": "float", "min": 0, "min_exclusive": true, "max": 10},
  {"name": "threads", "type": "int", "min": 0, "max": 1024},
  {"name": "train_limit", "type": "int", "min": 0, "max": 1e9}
]})";

inline const mlflow::sweep::ProgramTable& programs() {
  static const mlflow::sweep::ProgramTable table = [] {
    auto schema = mlflow::sweep::parse_param_schema(kTrainerParams, "test_programs.h");
    REQUIRE_MESSAGE(schema.ok(), schema.status().message());
    mlflow::sweep::ProgramDef train;
    train.name = "fmnist_train";
    train.executable = "/bin/true";
    train.threads_param = "threads";
    train.experiment_param = "experiment";
    train.logs_params = true;
    train.schema = *schema;
    mlflow::sweep::ProgramDef pretrain = train;
    pretrain.name = "fmnist_pretrain";
    pretrain.args = {"--no-register"};
    pretrain.defaults = {{"task", "rotation"}};
    mlflow::sweep::ProgramTable t;
    t.add(train);
    t.add(pretrain);
    t.set_default("fmnist_train");
    return t;
  }();
  return table;
}

}  // namespace sweep_test
