// SPDX-License-Identifier: Apache-2.0
// Client-side key rules against the real server, key by key: what the server accepts the client
// sends, what it refuses the client refuses before sending.
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mlflow/validation.h"
#include "support/test_support.h"

using mlflow::testing::server_url;
using mlflow::testing::test_client;

namespace {

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// Characters where Python's `\w`, ICU's u_isalnum and ASCII differ, and path-like names.
// clang-format off
const std::vector<std::string> kKeys = {
    // letters and numbers (Ll, Lo, Nd, No, Nl, Lt, Lm)
    "é", "ß", "中", "٣", "²", "Ⅻ", "½", "ǅ", "ʰ", "〇", "𝟘",
    // a combining mark alone and after 'e', symbols, spaces
    "\xCC\x81", "e\xCC\x81", "€", "🙂", "a\u00A0b", "x\xE3\x80\x80y", "\t",
    // newlines, mixed, path-like
    "a\n", "a\nb", "loss/é_²", "epoch:٣", "..é", "é/", "a//é", "./é", "é/./x",
    // lengths in characters
    repeat("é", 250), repeat("é", 251)};
// clang-format on

// The server's verdict, asked directly over HTTP so no client-side check stands in the way.
bool server_accepts(const std::string& endpoint, const nlohmann::json& body) {
  mlflow::HttpRequest req;
  req.method = "POST";
  req.url = server_url() + "/api/2.0/mlflow/" + endpoint;
  req.headers = {{"Content-Type", "application/json"}};
  req.body = body.dump();
  auto resp = mlflow::make_curl_transport()->send(req);
  REQUIRE_MESSAGE(resp.ok(), resp.status().to_string());
  // Refusals are 400 INVALID_PARAMETER_VALUE; anything else would be a server fault, not a verdict.
  REQUIRE_MESSAGE(
      (resp->status == 200 || resp->body.find("INVALID_PARAMETER_VALUE") != std::string::npos),
      resp->status << " " << resp->body);
  return resp->status == 200;
}

}  // namespace

TEST_CASE(
    "unicode keys: client and server agree on every key, for params, metrics, tags and experiment "
    "tags") {
  auto client = test_client();
  auto raw = mlflow::testing::new_run(client, "unicode-raw");
  auto ours = mlflow::testing::new_run(client, "unicode-client");
  int accepted = 0;
  int refused = 0;
  for (const std::string& key : kKeys) {
    CAPTURE(key);
    const bool param = server_accepts("runs/log-parameter",
                                      {{"run_id", raw.run_id}, {"key", key}, {"value", "v"}});
    const bool metric = server_accepts(
        "runs/log-metric",
        {{"run_id", raw.run_id}, {"key", key}, {"value", 1.0}, {"timestamp", 1}, {"step", 0}});
    const bool tag =
        server_accepts("runs/set-tag", {{"run_id", raw.run_id}, {"key", key}, {"value", "v"}});
    const bool exp_tag =
        server_accepts("experiments/set-experiment-tag",
                       {{"experiment_id", raw.experiment_id}, {"key", key}, {"value", "v"}});
    // One rule for all four kinds of key, on the server as in the client.
    CHECK(param == metric);
    CHECK(param == tag);
    CHECK(param == exp_tag);

    const auto st = client.log_param(ours.run_id, key, "v");
    CHECK(st.ok() == param);
    mlflow::Metric m;
    m.key = key;
    m.value = 1.0;
    m.timestamp = 1;
    CHECK(client.log_metric(ours.run_id, m).ok() == metric);
    CHECK(client.set_tag(ours.run_id, key, "v").ok() == tag);
    CHECK(client.set_experiment_tag(ours.experiment_id, key, "v").ok() == exp_tag);
    if (param) {
      ++accepted;
    } else {
      ++refused;
      // Refused before sending, with the client's own message naming the key.
      CHECK(st.code() == mlflow::StatusCode::kInvalidArgument);
      CHECK(st.http_status() == 0);
      CHECK(st.message().rfind("param key '", 0) == 0);
    }
  }
  // The list exercises both sides of the rule.
  CHECK(accepted >= 10);
  CHECK(refused >= 10);

  // Accepted keys come back from the server exactly as sent.
  auto run = client.get_run(ours.run_id);
  REQUIRE(run.ok());
  for (const std::string& key : {std::string("Ⅻ"), std::string("loss/é_²"), repeat("é", 250)}) {
    const bool found =
        std::any_of(run->data.params.begin(), run->data.params.end(),
                    [&](const mlflow::Param& p) { return p.key == key && p.value == "v"; });
    CHECK_MESSAGE(found, key);
  }
}
