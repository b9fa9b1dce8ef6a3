// SPDX-License-Identifier: Apache-2.0
// The process-wide list of live AsyncLoggers that signal and terminate hooks act on (private).
#pragma once

#include <memory>

namespace mlflow {
class AsyncLogger;
}

namespace mlflow::detail {

void register_logger(const std::shared_ptr<AsyncLogger>& logger);
void unregister_logger(const AsyncLogger* logger);

}  // namespace mlflow::detail
