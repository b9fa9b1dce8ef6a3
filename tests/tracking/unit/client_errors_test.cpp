// SPDX-License-Identifier: Apache-2.0
// Client request path over a fake transport: error mapping, auth headers, credential hygiene,
// bodies.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "mlflow/client.h"
#include "support/test_support.h"

using mlflow::ClientOptions;
using mlflow::MlflowClient;
using mlflow::StatusCode;
using mlflow::testing::FakeClock;
using mlflow::testing::FakeTransport;

namespace {
struct Fixture {
  std::shared_ptr<FakeTransport> transport = std::make_shared<FakeTransport>();
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  MlflowClient make(ClientOptions o = {}) {
    if (o.tracking_uri.empty()) o.tracking_uri = "http://tracking.example:5000";
    o.retry.max_retries = 2;
    auto c = MlflowClient::make(o, {transport, clock, [] { return 0.0; }});
    REQUIRE(c.ok());
    return *c;
  }
};
}  // namespace

TEST_CASE("client: MLflow error JSON surfaces error_code, HTTP status and message") {
  Fixture f;
  auto c = f.make();
  f.transport->push(
      400,
      R"({"error_code":"INVALID_PARAMETER_VALUE","message":"Changing param values is not allowed. Param with key='lr' was already logged with value='0.1'"})");
  auto st = c.log_param("r1", "lr", "0.2");
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.error_code() == "INVALID_PARAMETER_VALUE");
  CHECK(st.http_status() == 400);
  CHECK(st.to_string().find(
            "INVALID_PARAMETER_VALUE (HTTP 400): Changing param values is not allowed") == 0);
  CHECK(st.message().find("POST /api/2.0/mlflow/runs/log-parameter") != std::string::npos);
}

TEST_CASE("client: RESOURCE_DOES_NOT_EXIST maps to kNotFound") {
  Fixture f;
  auto c = f.make();
  f.transport->push(404,
                    R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run 'x' not found"})");
  auto r = c.get_run("x");
  CHECK(r.status().code() == StatusCode::kNotFound);
  CHECK(r.status().error_code() == "RESOURCE_DOES_NOT_EXIST");
}

TEST_CASE("client: a non-JSON 401 names method and path, and never the credentials") {
  Fixture f;
  ClientOptions o;
  o.tracking_uri = "https://alice:s3cr3t-pass@tracking.example/prefix/";
  auto c = f.make(o);
  f.transport->push(401, "<html><body><h1>401 Unauthorized</h1>You need to log in</body></html>",
                    {{"www-authenticate", "Basic realm=\"mlflow\""}});
  auto r = c.get_experiment("1");
  CHECK(r.status().code() == StatusCode::kUnauthenticated);
  CHECK(r.status().http_status() == 401);
  const std::string msg = r.status().to_string();
  CHECK(msg.find("GET /prefix/api/2.0/mlflow/experiments/get") != std::string::npos);
  CHECK(msg.find("401 Unauthorized You need to log in") != std::string::npos);
  CHECK(msg.find("s3cr3t") == std::string::npos);
  CHECK(msg.find("alice") == std::string::npos);
  CHECK(c.tracking_uri() == "https://tracking.example/prefix");
  CHECK(
      c.run_ui_url("7", "abc") ==
      "https://tracking.example/prefix/#/experiments/7/runs/abc?workflowType=machine_learning");  // printable
  // userinfo in the URI becomes Basic auth
  auto req = f.transport->requests().at(0);
  bool has_basic = false;
  for (const auto& [k, v] : req.headers)
    has_basic |= (k == "Authorization" && v.rfind("Basic ", 0) == 0);
  CHECK(has_basic);
  CHECK(req.url.find("s3cr3t") == std::string::npos);
}

TEST_CASE("client: a 401 names the server and says whether credentials were rejected or missing") {
  Fixture f;
  ClientOptions o;
  o.username = "alice";
  o.password = "wrong-pass-123";
  auto with = f.make(o);
  auto without = f.make();
  f.transport->push(401, "You are not authenticated.");
  f.transport->push(401, "You are not authenticated.");
  const std::string rejected = with.get_experiment("1").status().to_string();
  const std::string missing = without.get_experiment("1").status().to_string();
  CHECK(rejected.find("on tracking.example:5000") != std::string::npos);
  CHECK(rejected.find("authentication failed") != std::string::npos);
  CHECK(rejected.find("wrong-pass") == std::string::npos);
  CHECK(missing.find("authentication required") != std::string::npos);
  CHECK(f.transport->requests().size() == 2);  // not retried
}

TEST_CASE("client: a 200 whose body is not JSON says so, with the Content-Type and an excerpt") {
  Fixture f;
  auto c = f.make();
  f.transport->push(200, "<html>login</html>", {{"content-type", "text/html"}});
  const std::string m = c.get_experiment("1").status().message();
  CHECK(m.find("(HTTP 200, Content-Type text/html)") != std::string::npos);
  CHECK(m.find("not valid JSON: '<html>login</html>'") != std::string::npos);
  f.transport->push(200, "42");
  CHECK(c.get_experiment("1").status().message().find("got JSON number") != std::string::npos);
  CHECK(f.transport->requests().size() == 2);  // not retried
}

TEST_CASE("client: Basic wins over Bearer - Bearer when only a token is set") {
  Fixture f;
  ClientOptions o;
  o.username = "bob";
  o.password = "pw";
  o.token = "tok";
  auto c = f.make(o);
  f.transport->push(200, R"({"experiment":{"experiment_id":"1"}})");
  REQUIRE(c.get_experiment("1").ok());
  auto h = f.transport->requests().at(0).headers;
  CHECK(std::find(h.begin(), h.end(),
                  std::make_pair(std::string("Authorization"), std::string("Basic Ym9iOnB3"))) !=
        h.end());

  Fixture g;
  ClientOptions t;
  t.token = "tok";
  auto c2 = g.make(t);
  g.transport->push(200, R"({"experiment":{"experiment_id":"1"}})");
  REQUIRE(c2.get_experiment("1").ok());
  auto h2 = g.transport->requests().at(0).headers;
  CHECK(std::find(h2.begin(), h2.end(),
                  std::make_pair(std::string("Authorization"), std::string("Bearer tok"))) !=
        h2.end());
}

TEST_CASE("client: unreachable server gives one error with host:port, attempts and time") {
  Fixture f;
  auto c = f.make();
  f.transport->set_handler(
      [](const mlflow::HttpRequest&) -> mlflow::StatusOr<mlflow::HttpResponse> {
        return mlflow::Status(StatusCode::kUnavailable, "Couldn't connect to server");
      });
  auto r = c.get_run("abc");
  CHECK(r.status().code() == StatusCode::kUnavailable);
  const auto& m = r.status().message();
  CHECK(m.find("tracking.example:5000") != std::string::npos);
  CHECK(m.find("3 attempts") != std::string::npos);
  CHECK(m.find(" s") != std::string::npos);
}

TEST_CASE("client: 200 with a non-JSON body is a clear error") {
  Fixture f;
  auto c = f.make();
  f.transport->push(200, "<html>proxy login page</html>");
  auto r = c.get_run("abc");
  CHECK(r.status().code() == StatusCode::kInternal);
  CHECK(r.status().message().find("malformed response from GET /api/2.0/mlflow/runs/get") !=
        std::string::npos);
  f.transport->push(200, R"({"run": {"info": )");
  CHECK(c.get_run("abc").status().message().find("expected a JSON object") != std::string::npos);
}

TEST_CASE("client: NaN and +-Inf metric values are sent as protobuf JSON strings") {
  Fixture f;
  auto c = f.make();
  for (int i = 0; i < 3; ++i) f.transport->push(200, "{}");
  const double vals[] = {std::numeric_limits<double>::quiet_NaN(),
                         std::numeric_limits<double>::infinity(),
                         -std::numeric_limits<double>::infinity()};
  const char* want[] = {"NaN", "Infinity", "-Infinity"};
  for (int i = 0; i < 3; ++i) {
    mlflow::Metric m;
    m.key = "loss";
    m.value = vals[i];
    m.timestamp = 5;
    REQUIRE(c.log_metric("r1", m).ok());
    auto body = nlohmann::json::parse(f.transport->requests().at(i).body);
    CHECK(body["value"] == want[i]);
    CHECK(body["timestamp"] == 5);
  }
}

TEST_CASE("client: bad keys are rejected before anything is sent") {
  Fixture f;
  auto c = f.make();
  CHECK(c.log_param("r1", "", "v").code() == StatusCode::kInvalidArgument);
  CHECK(c.log_param("r1", std::string(251, 'k'), "v").message().find("251 characters") !=
        std::string::npos);
  CHECK(c.log_param("r1", "lr", std::string(6001, 'v')).message().find("6001") !=
        std::string::npos);
  CHECK(c.set_tag("r1", "bad*key", "v").message().find("contains '*'") != std::string::npos);
  mlflow::Metric ok_metric{"fine", 1.0, 1, 0, {}, {}, {}, {}};
  mlflow::Metric bad_metric{"../up", 1.0, 1, 0, {}, {}, {}, {}};
  CHECK(c.log_batch("r1", {ok_metric, bad_metric}).code() == StatusCode::kInvalidArgument);
  CHECK(f.transport->requests().empty());
}

TEST_CASE("client: unsupported tracking URI schemes are refused") {
  ClientOptions o;
  o.tracking_uri = "ftp://host/x";
  auto c = MlflowClient::make(o);
  CHECK(c.status().code() == StatusCode::kInvalidArgument);
  CHECK(c.status().message().find("'ftp'") != std::string::npos);
}

TEST_CASE("client: log_batch splits at the server's limits and keeps order") {
  Fixture f;
  auto c = f.make();
  f.transport->set_handler(
      [](const mlflow::HttpRequest&) -> mlflow::StatusOr<mlflow::HttpResponse> {
        mlflow::HttpResponse r;
        r.status = 200;
        r.body = "{}";
        return r;
      });
  std::vector<mlflow::Metric> ms;
  for (int i = 0; i < 2500; ++i) ms.push_back({"m", double(i), 1, i, {}, {}, {}, {}});
  std::vector<mlflow::Param> ps;
  for (int i = 0; i < 150; ++i) ps.push_back({"p" + std::to_string(i), "v"});
  REQUIRE(c.log_batch("r1", ms, ps).ok());
  auto reqs = f.transport->requests();
  int metrics = 0, params = 0;
  int64_t next_step = 0;
  for (const auto& r : reqs) {
    auto b = nlohmann::json::parse(r.body);
    CHECK(b["metrics"].size() <= 1000);
    CHECK(b["params"].size() <= 100);
    CHECK(b["metrics"].size() + b["params"].size() + b["tags"].size() <= 1000);
    CHECK(r.body.size() < 1000000);
    for (const auto& m : b["metrics"]) CHECK(m["step"].get<int64_t>() == next_step++);
    metrics += static_cast<int>(b["metrics"].size());
    params += static_cast<int>(b["params"].size());
  }
  CHECK(metrics == 2500);
  CHECK(params == 150);
  CHECK(reqs.size() == 4);
}

TEST_CASE("client: multi-line server messages with SQL dumps become one tidy line") {
  Fixture f;
  auto c = f.make();
  f.transport->push(
      400,
      R"j({"error_code":"RESOURCE_ALREADY_EXISTS","message":"Experiment(name=x) already exists.\nError: (sqlite3.IntegrityError) UNIQUE constraint failed\n[SQL: INSERT INTO experiments (name) VALUES (?)]\n(Background on this error at: https://sqlalche.me/e/20/gkpj)"})j");
  auto r = c.create_experiment("x");
  CHECK(r.status().code() == StatusCode::kAlreadyExists);
  const auto& m = r.status().message();
  CHECK(m.find('\n') == std::string::npos);
  CHECK(m.find("[SQL:") == std::string::npos);
  CHECK(m.find("Experiment(name=x) already exists. Error: (sqlite3.IntegrityError)") == 0);
}

TEST_CASE("client: a runs:/ model version source fills in run_id") {
  Fixture f;
  auto c = f.make();
  f.transport->push(200, R"({"model_version":{"name":"m","version":"1"}})");
  mlflow::ModelVersionCreate mv;
  mv.name = "m";
  mv.source = "runs:/0123abcd/model";
  REQUIRE(c.create_model_version(mv).ok());
  auto body = nlohmann::json::parse(f.transport->requests().at(0).body);
  CHECK(body["run_id"] == "0123abcd");
}

TEST_CASE("client: log_inputs re-sends after losing the server's race to insert a new dataset") {
  Fixture f;
  auto c = f.make();
  mlflow::DatasetInput in;
  in.dataset = {"fashion-mnist-train", "d1g35t", "local", R"({"uri":"/data"})", "", ""};
  const char* race =
      R"({"error_code":"BAD_REQUEST","message":"(sqlite3.IntegrityError) UNIQUE constraint failed: datasets.experiment_id, datasets.name, datasets.digest"})";
  f.transport->push(400, race);
  f.transport->push(200, "{}");
  CHECK(c.log_inputs("r1", {in}).ok());
  REQUIRE(f.transport->requests().size() == 2);
  CHECK(f.transport->requests().at(1).body == f.transport->requests().at(0).body);

  // Three lost races in a row: the server's error is reported, no fourth request.
  for (int i = 0; i < 3; ++i) f.transport->push(400, race);
  auto st = c.log_inputs("r1", {in});
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find("IntegrityError") != std::string::npos);
  CHECK(f.transport->requests().size() == 5);

  // Any other refusal is not sent again.
  f.transport->push(400, R"({"error_code":"INVALID_PARAMETER_VALUE","message":"bad dataset"})");
  CHECK_FALSE(c.log_inputs("r1", {in}).ok());
  CHECK(f.transport->requests().size() == 6);
}
