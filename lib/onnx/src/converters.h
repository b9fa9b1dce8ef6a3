// SPDX-License-Identifier: Apache-2.0
// The built-in converters (converters.cpp), for the Exporter's constructor.
#pragma once

#include <string>

#include "mlflow/onnx/exporter.h"

namespace mlflow::onnx {

/// Registers the converters of LibTorch's standard layers (the list in Exporter::Exporter()).
void add_standard_converters(Exporter& exporter);

/// "module 'a.b'", or "the root module" for the empty path: how messages name a module.
std::string module_label(const std::string& path);

}  // namespace mlflow::onnx
