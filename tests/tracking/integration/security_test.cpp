// SPDX-License-Identifier: Apache-2.0
// Security against real servers: HTTPS through a TLS-terminating fault_proxy.py with a CA made by
// the openssl CLI, and MLflow's basic-auth app (one 401, no retries, no credential in any message
// or in mlflowctl's output).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "mlflow/async_logger.h"
#include "mlflow/client.h"
#include "mlflow/options.h"
#include "support/fault_proxy.h"
#include "support/process.h"
#include "support/test_support.h"

using mlflow::ClientOptions;
using mlflow::MlflowClient;
using mlflow::Status;
using mlflow::StatusCode;
using mlflow::testing::base64;
using mlflow::testing::FaultProxy;
using mlflow::testing::read_file;
using mlflow::testing::run_process;
using mlflow::testing::server_url;
using mlflow::testing::shell_quote;
using mlflow::testing::TempDir;
using mlflow::testing::test_options;
using mlflow::testing::unique_name;
using mlflow::testing::write_file;

namespace {

using Env = std::map<std::string, std::string>;

ClientOptions::EnvLookup lookup(const Env& env) {
  return [env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

/// `n` random letters and digits.
std::string random_secret(int n) {
  static const char* chars = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::random_device rd;
  std::string s;
  const std::size_t count = std::strlen(chars);
  for (int i = 0; i < n; ++i) s += chars[rd() % count];
  return s;
}

std::string host_port(const std::string& url) { return url.substr(url.find("//") + 2); }

/// Creates an experiment and a run, logs a metric and a param, and reads them back.
void check_round_trip(MlflowClient& client) {
  auto exp = client.create_experiment(unique_name("security"));
  REQUIRE_MESSAGE(exp.ok(), exp.status().to_string());
  auto run = client.create_run({*exp, "secure-run", {}, {}});
  REQUIRE_MESSAGE(run.ok(), run.status().to_string());
  const std::string& id = run->info.run_id;
  Status st =
      client.log_batch(id, {{"acc", 0.875, 1700000000000, 3, {}, {}, {}, {}}}, {{"lr", "0.01"}});
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  auto back = client.get_run(id);
  REQUIRE_MESSAGE(back.ok(), back.status().to_string());
  REQUIRE(back->data.metrics.size() == 1);
  CHECK(back->data.metrics[0].key == "acc");
  CHECK(back->data.metrics[0].value == 0.875);
  CHECK(back->data.metrics[0].step == 3);
  REQUIRE(back->data.params.size() == 1);
  CHECK(back->data.params[0].value == "0.01");
}

// ---- TLS ------------------------------------------------------------------------------------

void openssl(const std::vector<std::string>& args) {
  auto r = run_process("/usr/bin/openssl", args);
  REQUIRE_MESSAGE(r.exit_code == 0, "openssl " << args[0] << " failed: " << r.err);
}

/// A CA and a server certificate it signed for 127.0.0.1 (IP SAN, which curl checks), plus an
/// unrelated CA; then an HTTPS fault_proxy.py with that certificate in front of the real server.
struct TlsSetup {
  TempDir dir;
  std::string ca, other_ca;
  std::optional<FaultProxy> proxy;

  TlsSetup() {
    const std::string d = dir.path() + "/";
    ca = d + "ca.pem";
    other_ca = d + "other-ca.pem";
    const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:prime256v1", "-nodes"};
    auto make_ca = [&](const std::string& pem, const std::string& key, const std::string& cn) {
      std::vector<std::string> a = {"req", "-x509"};
      a.insert(a.end(), ec.begin(), ec.end());
      a.insert(a.end(), {"-keyout", key, "-out", pem, "-days", "2", "-subj", "/CN=" + cn, "-addext",
                         "basicConstraints=critical,CA:TRUE", "-addext",
                         "keyUsage=critical,keyCertSign,cRLSign"});
      openssl(a);
    };
    make_ca(ca, d + "ca.key", "mlflow-cpp test CA");
    make_ca(other_ca, d + "other-ca.key", "mlflow-cpp unrelated CA");
    std::vector<std::string> csr = {"req"};
    csr.insert(csr.end(), ec.begin(), ec.end());
    csr.insert(csr.end(),
               {"-keyout", d + "server.key", "-out", d + "server.csr", "-subj", "/CN=127.0.0.1"});
    openssl(csr);
    write_file(d + "server.ext",
               "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
               "extendedKeyUsage=serverAuth\n");
    openssl({"x509", "-req", "-in", d + "server.csr", "-CA", ca, "-CAkey", d + "ca.key",
             "-CAcreateserial", "-out", d + "server.pem", "-days", "2", "-extfile",
             d + "server.ext"});
    proxy.emplace(FaultProxy::start(
        server_url(), {"--tls-cert", d + "server.pem", "--tls-key", d + "server.key"}));
    REQUIRE(proxy->url().rfind("https://127.0.0.1:", 0) == 0);
  }
};

// ---- basic auth -----------------------------------------------------------------------------

/// `mlflow server --app-name basic-auth` (via mlflow/server.sh) with a random admin password,
/// stopped when destroyed. One per test process: it takes ~10 s to start.
class AuthServer {
 public:
  AuthServer() : password_(random_secret(20)) {
    auto r = run_process(
        "/bin/bash", {server_sh(), "start", "--dir", dir_.path(), "--", "--app-name", "basic-auth"},
        {"MLFLOW_AUTH_ADMIN_USERNAME=admin", "MLFLOW_AUTH_ADMIN_PASSWORD=" + password_,
         "MLFLOW_FLASK_SERVER_SECRET_KEY=" + random_secret(32)});
    REQUIRE_MESSAGE(r.exit_code == 0, "basic-auth server did not start: " << r.err);
    url_ = read_file(dir_.path() + "/server.url");
    REQUIRE(!url_.empty());
  }
  ~AuthServer() {
    // No REQUIRE here: a destructor must not throw.
    const std::string cmd = "bash " + shell_quote(server_sh()) + " stop --dir " +
                            shell_quote(dir_.path()) + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      std::fprintf(stderr, "could not stop the basic-auth server in %s\n", dir_.path().c_str());
    }
  }
  AuthServer(const AuthServer&) = delete;
  AuthServer& operator=(const AuthServer&) = delete;

  const std::string& url() const { return url_; }
  const std::string& password() const { return password_; }
  std::string log() const { return read_file(dir_.path() + "/server.log"); }

  static AuthServer& shared() {
    static AuthServer server;
    return server;
  }

 private:
  static std::string server_sh() { return MLFLOW_CPP_SOURCE_DIR "/mlflow/server.sh"; }
  TempDir dir_;
  std::string password_;
  std::string url_;
};

/// Fails the test when `text` holds `password` or any Basic-auth encoding of admin with it.
void check_no_credentials(const std::string& text, const std::string& password) {
  CHECK_MESSAGE(text.find(password) == std::string::npos, "password in: " << text);
  // Without its last group, which padding changes: also catches "admin:PASSWORD<more>" encoded.
  const std::string b64 = base64("admin:" + password);
  CHECK_MESSAGE(text.find(b64.substr(0, b64.size() - 4)) == std::string::npos,
                "base64 credentials in: " << text);
}

// ---- the async logger when the server cannot be used ------------------------------------------

/// An async logger's log lines, from its worker thread.
struct CapturedLog {
  std::mutex mu;
  std::string text;
  std::string get() {
    std::lock_guard<std::mutex> lock(mu);
    return text;
  }
};

mlflow::AsyncLoggerOptions logger_options(const std::string& spool, CapturedLog& log) {
  mlflow::AsyncLoggerOptions o;
  o.spool_dir = spool;
  o.probe_interval = std::chrono::milliseconds(300);
  o.retry.max_retries = 1;
  o.log = [&log](const std::string& line) {
    std::lock_guard<std::mutex> lock(log.mu);
    log.text += line + "\n";
  };
  return o;
}

constexpr int kAsyncMetrics = 200;

/// Run "r" in `experiment` through `logger`: param lr, metric m = j at step j, then its end.
void log_async_run(mlflow::AsyncLogger& logger, const std::string& experiment) {
  mlflow::RunOptions o;
  o.experiment_name = experiment;
  o.run_name = "r";
  auto run = logger.start_run(o);
  REQUIRE(run.ok());
  REQUIRE(run->log_param("lr", "0.01").ok());
  for (int j = 0; j < kAsyncMetrics; ++j) REQUIRE(run->log_metric("m", j, j).ok());
  run->end();
}

/// Checks the one run of `experiment` holds metric m exactly as log_async_run logged it.
void check_async_run(MlflowClient& client, const std::string& experiment) {
  auto exp = client.get_experiment_by_name(experiment);
  REQUIRE_MESSAGE(exp.ok(), exp.status().to_string());
  auto runs = client.search_runs({exp->experiment_id});
  REQUIRE(runs.ok());
  REQUIRE(runs->items.size() == 1);
  CHECK(runs->items[0].info.status == mlflow::RunStatus::kFinished);
  auto history = client.get_metric_history(runs->items[0].info.run_id, "m");
  REQUIRE(history.ok());
  REQUIRE(history->size() == static_cast<std::size_t>(kAsyncMetrics));
  for (const auto& m : *history) CHECK(m.value == static_cast<double>(m.step));
}

/// Everything in the files under `dir`.
std::string files_text(const std::string& dir) {
  std::string all;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) all += read_file(entry.path().string());
  }
  return all;
}

}  // namespace

TEST_CASE("security: HTTPS with a private CA is refused by default with a certificate error") {
  TlsSetup tls;
  SUBCASE("default options") {
    auto c = MlflowClient::make(test_options(tls.proxy->url()));
    REQUIRE(c.ok());
    const auto start = std::chrono::steady_clock::now();
    auto r = c->create_experiment(unique_name("tls-refused"));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    REQUIRE_FALSE(r.ok());
    const std::string m = r.status().to_string();
    CAPTURE(m);
    CHECK(r.status().code() == StatusCode::kFailedPrecondition);  // not transient: not retried
    CHECK(m.find("certificate") != std::string::npos);
    CHECK(m.find("MLFLOW_TRACKING_SERVER_CERT_PATH") != std::string::npos);
    CHECK(m.find(host_port(tls.proxy->url())) != std::string::npos);
  }
  SUBCASE("a CA that did not sign the server's certificate") {
    auto o = test_options(tls.proxy->url());
    o.server_cert_path = tls.other_ca;
    auto c = MlflowClient::make(o);
    REQUIRE(c.ok());
    auto r = c->create_experiment(unique_name("tls-refused"));
    REQUIRE_FALSE(r.ok());
    CAPTURE(r.status().to_string());
    CHECK(r.status().code() == StatusCode::kFailedPrecondition);
    CHECK(r.status().message().find(tls.other_ca) != std::string::npos);
  }
  // The handshake failed every time: no request got through to be answered.
  CHECK(tls.proxy->count("requests") == 0);
}

TEST_CASE("security: HTTPS works with the CA from server_cert_path or the environment") {
  TlsSetup tls;
  SUBCASE("ClientOptions::server_cert_path") {
    auto o = test_options(tls.proxy->url());
    o.server_cert_path = tls.ca;
    auto c = MlflowClient::make(o);
    REQUIRE(c.ok());
    check_round_trip(*c);
  }
  SUBCASE("MLFLOW_TRACKING_SERVER_CERT_PATH") {
    auto o = ClientOptions::from_env(lookup(
        {{"MLFLOW_TRACKING_URI", tls.proxy->url()}, {"MLFLOW_TRACKING_SERVER_CERT_PATH", tls.ca}}));
    REQUIRE(o.ok());
    CHECK(o->server_cert_path == tls.ca);
    auto c = MlflowClient::make(*o);
    REQUIRE(c.ok());
    check_round_trip(*c);
  }
  CHECK(tls.proxy->count("forwarded") >= 4);  // it really went through the HTTPS proxy
}

TEST_CASE(
    "security: through a TLS failure the async logger keeps every record until the CA is set") {
  TlsSetup tls;
  TempDir spool;
  CapturedLog log;
  const std::string experiment = unique_name("tls-async");
  {
    auto c = MlflowClient::make(test_options(tls.proxy->url()));
    REQUIRE(c.ok());
    auto logger = mlflow::AsyncLogger::open(*c, logger_options(spool.path(), log));
    REQUIRE(logger.ok());
    log_async_run(**logger, experiment);
    auto report = (*logger)->flush(std::chrono::seconds(3));
    const Status st = report.status();
    CAPTURE(st.to_string());
    CHECK_FALSE(report.complete);
    CHECK(st.code() == StatusCode::kFailedPrecondition);
    CHECK(st.message().find("not delivered yet") != std::string::npos);
    CHECK(st.message().find("certificate") != std::string::npos);
    CHECK(st.message().find("MLFLOW_TRACKING_SERVER_CERT_PATH") != std::string::npos);
    CHECK(report.rejected.empty());
    auto closed = (*logger)->close(std::chrono::seconds(2));
    CHECK(closed.counters.rejected == 0);  // nothing is wrong with the records
    CHECK(closed.counters.spooled == closed.counters.queued);
  }
  CHECK(tls.proxy->count("requests") == 0);
  {
    // The user sets the CA: the next logger for the same server replays the session.
    auto o = test_options(tls.proxy->url());
    o.server_cert_path = tls.ca;
    auto c = MlflowClient::make(o);
    REQUIRE(c.ok());
    auto logger = mlflow::AsyncLogger::open(*c, logger_options(spool.path(), log));
    REQUIRE(logger.ok());
    auto report = (*logger)->close(std::chrono::seconds(60));
    CAPTURE(report.status().to_string());
    CHECK(report.complete);
    CHECK(report.counters.replayed > static_cast<std::uint64_t>(kAsyncMetrics));
    CHECK(report.counters.rejected == 0);
  }
  auto direct = mlflow::testing::test_client();
  check_async_run(direct, experiment);
}

TEST_CASE("security: MLFLOW_TRACKING_INSECURE_TLS=true works without the CA") {
  TlsSetup tls;
  auto o = ClientOptions::from_env(lookup(
      {{"MLFLOW_TRACKING_URI", tls.proxy->url()}, {"MLFLOW_TRACKING_INSECURE_TLS", "true"}}));
  REQUIRE(o.ok());
  CHECK(o->insecure_tls);
  auto c = MlflowClient::make(*o);
  REQUIRE(c.ok());
  check_round_trip(*c);
  CHECK(tls.proxy->count("forwarded") >= 4);
}

// One TEST_CASE (one process under ctest) so the auth server, ~10 s to start, starts once.
TEST_CASE("security: basic-auth takes the right credentials, denies others once, leaks none") {
  AuthServer& server = AuthServer::shared();
  const std::string pw = server.password();
  // The leak checks below are only as good as their encoder.
  REQUIRE(base64("alice:hunter2-secret") == "YWxpY2U6aHVudGVyMi1zZWNyZXQ=");

  SUBCASE("right credentials in ClientOptions") {
    auto o = test_options(server.url());
    o.username = "admin";
    o.password = pw;
    auto c = MlflowClient::make(o);
    REQUIRE(c.ok());
    check_round_trip(*c);
  }
  SUBCASE("right credentials from MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD") {
    auto o = ClientOptions::from_env(lookup({{"MLFLOW_TRACKING_URI", server.url()},
                                             {"MLFLOW_TRACKING_USERNAME", "admin"},
                                             {"MLFLOW_TRACKING_PASSWORD", pw}}));
    REQUIRE(o.ok());
    auto c = MlflowClient::make(*o);
    REQUIRE(c.ok());
    check_round_trip(*c);
  }

  // Through a counting proxy with the default retry policy (7 retries): a 401 is not transient, so
  // exactly one request reaches the server.
  SUBCASE("wrong password or none") {
    FaultProxy proxy = FaultProxy::start(server.url());
    const std::string wrong = random_secret(20);
    struct Case {
      const char* name;
      std::string username, password;
      const char* says;
    };
    const Case cases[] = {{"wrong password", "admin", wrong, "authentication failed"},
                          {"no credentials", "", "", "authentication required"}};
    int sent = 0;
    for (const auto& k : cases) {
      CAPTURE(k.name);
      ClientOptions o;  // default retries
      o.tracking_uri = proxy.url();
      o.username = k.username;
      o.password = k.password;
      auto c = MlflowClient::make(o);
      REQUIRE(c.ok());
      const auto start = std::chrono::steady_clock::now();
      auto r = c->create_experiment(unique_name("auth-denied"));
      CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
      REQUIRE_FALSE(r.ok());
      const std::string m = r.status().to_string();
      CAPTURE(m);
      CHECK(r.status().code() == StatusCode::kUnauthenticated);
      CHECK(r.status().http_status() == 401);
      CHECK(m.find("401") != std::string::npos);
      CHECK(m.find(k.says) != std::string::npos);
      CHECK(m.find(host_port(proxy.url())) != std::string::npos);
      CHECK(m.find("POST /api/2.0/mlflow/experiments/create") != std::string::npos);
      check_no_credentials(m, wrong);
      check_no_credentials(m, pw);
      CHECK(proxy.count("forwarded") == ++sent);
    }
  }
  SUBCASE("the async logger with a wrong password keeps the records, says 401, leaks nothing") {
    TempDir spool;
    CapturedLog log;
    const std::string wrong = random_secret(20);
    const std::string experiment = unique_name("auth-async");
    auto o = test_options(server.url());
    o.username = "admin";
    o.password = wrong;
    std::string said;
    {
      auto c = MlflowClient::make(o);
      REQUIRE(c.ok());
      auto logger = mlflow::AsyncLogger::open(*c, logger_options(spool.path(), log));
      REQUIRE(logger.ok());
      log_async_run(**logger, experiment);
      auto report = (*logger)->flush(std::chrono::seconds(3));
      const Status st = report.status();
      said = st.to_string();
      CAPTURE(said);
      CHECK_FALSE(report.complete);
      CHECK(st.code() == StatusCode::kUnauthenticated);
      CHECK(st.http_status() == 401);
      CHECK(st.message().find("not delivered yet") != std::string::npos);
      CHECK(st.message().find("HTTP 401") != std::string::npos);
      CHECK(st.message().find("authentication failed") != std::string::npos);
      CHECK(st.message().find(host_port(server.url())) != std::string::npos);
      CHECK(report.rejected.empty());
      auto closed = (*logger)->close(std::chrono::seconds(2));
      said += "\n" + closed.status().to_string();
      CHECK(closed.counters.rejected == 0);
      CHECK(closed.counters.spooled == closed.counters.queued);
    }
    const std::string everything = said + "\n" + log.get() + "\n" + files_text(spool.path());
    CHECK(everything.find("401") != std::string::npos);
    check_no_credentials(everything, wrong);
    check_no_credentials(everything, pw);
    // The right password: the next logger replays the session.
    o.password = pw;
    auto c = MlflowClient::make(o);
    REQUIRE(c.ok());
    {
      auto logger = mlflow::AsyncLogger::open(*c, logger_options(spool.path(), log));
      REQUIRE(logger.ok());
      auto report = (*logger)->close(std::chrono::seconds(60));
      CAPTURE(report.status().to_string());
      CHECK(report.complete);
      CHECK(report.counters.replayed > static_cast<std::uint64_t>(kAsyncMetrics));
    }
    check_async_run(*c, experiment);
    check_no_credentials(log.get(), pw);
  }
#ifdef MLFLOWCTL_PATH
  SUBCASE("mlflowctl prints no credential, with a wrong or the right password") {
    const std::string wrong = random_secret(20);
    auto ctl = [&](const std::string& password, const std::vector<std::string>& args) {
      auto r =
          run_process(MLFLOWCTL_PATH, args,
                      {"MLFLOW_TRACKING_URI=" + server.url(), "MLFLOW_TRACKING_USERNAME=admin",
                       "MLFLOW_TRACKING_PASSWORD=" + password, "MLFLOW_HTTP_REQUEST_MAX_RETRIES=1",
                       "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR=0.1"});
      const std::string all = r.out + r.err;
      CAPTURE(all);
      check_no_credentials(all, password);
      check_no_credentials(all, server.password());
      return r;
    };
    const std::string name = unique_name("ctl-auth");
    auto denied = ctl(wrong, {"experiments", "create", name});
    CHECK(denied.exit_code == 1);
    CHECK(denied.err.find("401") != std::string::npos);
    auto denied_list = ctl(wrong, {"--json", "runs", "list", "--experiment", name});
    CHECK(denied_list.exit_code != 0);

    auto created = ctl(server.password(), {"experiments", "create", name});
    CHECK(created.exit_code == 0);
    auto run = ctl(server.password(), {"runs", "create", "--experiment", name, "--name", "r"});
    CHECK(run.exit_code == 0);
    auto listed = ctl(server.password(), {"--json", "runs", "list", "--experiment", name});
    CHECK(listed.exit_code == 0);
    CHECK(listed.out.find("\"r\"") != std::string::npos);

    // Credentials in the URI are redacted the same way.
    const std::string url = server.url();
    const std::string with_userinfo = "http://admin:" + wrong + "@" + host_port(url);
    auto r = run_process(MLFLOWCTL_PATH, {"--tracking-uri", with_userinfo, "experiments", "list"},
                         {"MLFLOW_HTTP_REQUEST_MAX_RETRIES=0"});
    CHECK(r.exit_code == 1);
    check_no_credentials(r.out + r.err, wrong);
    // And the server's own log did not record them either.
    check_no_credentials(server.log(), wrong);
  }
#endif
}
