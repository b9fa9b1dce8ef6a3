// SPDX-License-Identifier: Apache-2.0
// The programs sweep specs can name (`program: NAME`): this project's trainer in its two roles.
#pragma once

#include "mlflow/sweep/program.h"

/// fmnist_train (the default) and fmnist_pretrain (fmnist_train pretraining a backbone, rotation
/// unless the spec sets task, without registering it: the sweep registers its best trial). Their
/// parameters are what `fmnist_train --describe-params` prints. The executable:
/// $MLFLOW_CPP_FMNIST_TRAIN, else fmnist_train beside sweep_runner (installed) or in
/// ../fmnist_train/ (build tree); when none is found, specs naming them are refused.
mlflow::sweep::ProgramTable sweep_programs(const char* argv0);
