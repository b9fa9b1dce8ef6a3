// SPDX-License-Identifier: Apache-2.0
// Runs tests/support/fault_proxy.py (a fault-injecting HTTP(S) proxy) in front of a real server.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/process.h"
#include "support/test_support.h"

namespace mlflow::testing {

/// One running fault_proxy.py; stopped (SIGTERM, then waited for) when destroyed. Move-only.
class FaultProxy {
 public:
  /// Starts the proxy in front of `upstream` (http://HOST:PORT) with more of its options, e.g.
  /// {"--faults", "500:0.2", "--seed", "7"} (see fault_proxy.py --help), and waits up to 20 s
  /// for it to listen. Fails the current test, with the proxy's output, when it does not come up.
  static FaultProxy start(const std::string& upstream,
                          const std::vector<std::string>& extra_args = {});

  /// Its base URL, http://127.0.0.1:PORT (https:// with --tls-cert).
  const std::string& url() const { return url_; }
  /// GET /__proxy/stats: counts per fault kind, "forwarded", "requests", ... Fails the test on
  /// error. Thread-safe.
  nlohmann::json stats() const;
  /// stats()[key] as a number (0 when absent).
  int count(const std::string& key) const;
  /// Moves the proxy to another upstream (http://HOST:PORT): requests from then on go there, over
  /// new connections. Fails the test on error.
  void set_upstream(const std::string& upstream) const;

 private:
  FaultProxy() = default;
  std::unique_ptr<TempDir> dir_;  // declared first: destroyed after the process is stopped
  std::unique_ptr<BackgroundProcess> process_;
  std::string url_;
};

}  // namespace mlflow::testing
