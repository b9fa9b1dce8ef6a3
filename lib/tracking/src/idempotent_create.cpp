// SPDX-License-Identifier: Apache-2.0
// Creating runs and model versions safe to retry: one create request, and after an attempt without
// a definite answer a lookup by the client token before any second create.
#include "idempotent_create.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <random>

#include "client_impl.h"
#include "retry.h"

namespace mlflow {

namespace detail {

std::string new_create_token(char prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{}{:016x}{:016x}", prefix, rng(), rng());
}

StatusOr<std::string> create_token(Tags& tags, const char* tag, char prefix) {
  auto given = find_value(tags, tag);
  if (!given) {
    tags.push_back({tag, new_create_token(prefix)});
    return tags.back().value;
  }
  const std::string& token = *given;
  const bool ok = !token.empty() && token.size() <= 64 &&
                  std::all_of(token.begin(), token.end(), [](unsigned char c) {
                    return std::isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-';
                  });
  if (ok) return token;
  return Status(StatusCode::kInvalidArgument,
                fmt::format("tag '{}' value '{}' is not a usable token: it takes 1 to 64 letters, "
                            "digits, '.', '_', ':' or '-'",
                            tag, token));
}

std::string token_filter(const char* tag, const std::string& token) {
  return fmt::format("tags.`{}` = '{}'", tag, token);
}

}  // namespace detail

StatusOr<detail::json> MlflowClient::Impl::create_idempotently(const std::string& endpoint,
                                                               const detail::json& body,
                                                               const Lookup& lookup,
                                                               bool may_exist) const {
  // A fresh connection: libcurl silently re-sends a request whose reused connection died before
  // any reply, which would create a second entity behind this loop's back.
  const HttpRequest create = json_request("POST", endpoint, body, {}, /*fresh_connection=*/true);
  const HttpRequest find = json_request(lookup.method, lookup.endpoint, lookup.body, lookup.query,
                                        /*fresh_connection=*/false);
  detail::RetryBudget budget(*clock, random, options.retry);
  bool unsure = may_exist;  // whether an earlier attempt may have created the entity
  for (;;) {
    const HttpRequest& sent = unsure ? find : create;
    HttpRequest attempt = sent;
    attempt.timeout = budget.start_attempt();
    StatusOr<HttpResponse> last = transport->send(attempt);
    const bool transient = detail::is_transient(last);
    if (transient && budget.wait_to_retry(last)) {
      unsure = true;
      continue;
    }
    auto j = json_answer(
        sent.method, unsure ? lookup.endpoint : endpoint,
        answer(sent.method, sent.url, std::move(last), budget.attempts(), budget.elapsed()));
    if (transient || !unsure || !j.ok()) return j;  // out of retries, created, or refused
    if (auto found = lookup.pick(*j)) return *found;
    unsure = false;  // not created: create it now, in the same round
  }
}

}  // namespace mlflow
