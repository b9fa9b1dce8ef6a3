// SPDX-License-Identifier: Apache-2.0
// The routes called with hand-made requests over a fake model (no sockets).
#include "server.h"

#include <doctest/doctest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "fake_predictor.h"
#include "image_encoding.h"
#include "page.h"

namespace mlflow::serve {
namespace {

using Json = nlohmann::json;
using testing::FakePredictor;

struct Fixture {
  ModelHolder models;
  ServeMetrics metrics;
  Batcher batcher{{8, std::chrono::microseconds(0), 64}, models};
  Server server{ServerOptions{}, ServeContext{models, batcher, metrics, {}}};
  Fixture() { models.swap_in(std::make_shared<FakePredictor>("4")); }
};

httplib::Request post(const std::string& body, const std::string& content_type) {
  httplib::Request req;
  req.method = "POST";
  req.body = body;
  req.set_header("Content-Type", content_type);
  return req;
}

std::string image_json(int cls) {
  Json flat = Json::array();
  flat.push_back(cls / 10.0 + 0.05);
  for (int i = 1; i < 784; ++i) flat.push_back(0.0);
  return flat.dump();
}

TEST_CASE("server: /invocations answers predictions, wrong content type 415, bad body 400") {
  Fixture f;
  httplib::Response res;
  f.server.invocations(post("{\"inputs\": [" + image_json(6) + "]}", "application/json"), res);
  CHECK(res.status == 200);
  auto body = Json::parse(res.body);
  REQUIRE(body["predictions"].size() == 1);
  CHECK(body["predictions"][0][6] == 1.0);

  httplib::Response charset;
  f.server.invocations(
      post("{\"inputs\": [" + image_json(2) + "]}", "application/json; charset=UTF-8"), charset);
  CHECK(charset.status == 200);

  httplib::Response csv;
  f.server.invocations(post("1,2,3", "text/csv"), csv);
  CHECK(csv.status == 415);
  CHECK(Json::parse(csv.body)["message"].get<std::string>().find("text/csv") != std::string::npos);

  httplib::Response bad;
  f.server.invocations(post("{\"inputs\": [[1, 2]]}", "application/json"), bad);
  CHECK(bad.status == 400);
  CHECK(Json::parse(bad.body)["error_code"] == "BAD_REQUEST");
}

TEST_CASE("server: Open Inference Protocol v2 metadata, readiness and infer, unknown model 404") {
  Fixture f;
  httplib::Request meta;
  meta.path = "/v2/models/fake/versions/4";
  meta.matches = {};
  // matches come from httplib's router; build them the way it does.
  std::regex pattern(R"(/v2/models/([^/]+)(?:/versions/([^/]+))?)");
  std::regex_match(meta.path, meta.matches, pattern);
  httplib::Response res;
  f.server.v2_model(meta, res);
  CHECK(res.status == 200);
  CHECK(Json::parse(res.body)["inputs"][0]["shape"] == Json{-1, 1, 28, 28});

  httplib::Request infer = post(Json{{"inputs",
                                      {{{"name", "images"},
                                        {"shape", {1, 784}},
                                        {"datatype", "FP32"},
                                        {"data", Json::parse(image_json(8))}}}}}
                                    .dump(),
                                "application/json");
  infer.path = "/v2/models/fake/infer";
  std::regex infer_pattern(R"(/v2/models/([^/]+)(?:/versions/([^/]+))?/infer)");
  std::regex_match(infer.path, infer.matches, infer_pattern);
  httplib::Response out;
  f.server.v2_infer(infer, out);
  REQUIRE(out.status == 200);
  auto body = Json::parse(out.body);
  CHECK(body["model_version"] == "4");
  CHECK(body["outputs"][0]["data"][8] == 1.0);

  httplib::Request other;
  other.path = "/v2/models/other";
  std::regex_match(other.path, other.matches, pattern);
  httplib::Response missing;
  f.server.v2_model(other, missing);
  CHECK(missing.status == 404);
  CHECK(Json::parse(missing.body)["error"].get<std::string>().find("'other'") != std::string::npos);
}

TEST_CASE("server: /health and /ping before and after a model, /metrics counts") {
  ModelHolder models;
  ServeMetrics metrics;
  Batcher batcher{{8, std::chrono::microseconds(0), 64}, models};
  Server server{ServerOptions{}, ServeContext{models, batcher, metrics, [] {
                                                return Json{{"reload", {{"reloads", 0}}}};
                                              }}};
  httplib::Response before;
  server.health({}, before);
  CHECK(before.status == 503);
  CHECK(Json::parse(before.body)["status"] == "loading");
  models.swap_in(std::make_shared<FakePredictor>("4"));
  httplib::Response after;
  server.health({}, after);
  CHECK(after.status == 200);
  auto body = Json::parse(after.body);
  CHECK(body["model"]["version"] == "4");
  CHECK(body["reload"]["reloads"] == 0);
  httplib::Response ping;
  server.ping({}, ping);
  CHECK(ping.status == 200);

  metrics.record_request("/invocations", 200, std::chrono::milliseconds(3));
  metrics.set_model(models.current()->info());
  httplib::Response text;
  server.metrics({}, text);
  CHECK(text.body.find("fmnist_serve_requests_total{code=\"200\",route=\"/invocations\"} 1") !=
        std::string::npos);
  CHECK(text.body.find("fmnist_serve_model_version 4") != std::string::npos);
}

TEST_CASE("server: overload: a full queue answers 429 with a JSON error") {
  ModelHolder models;
  models.swap_in(std::make_shared<FakePredictor>("1"));
  ServeMetrics metrics;
  // No worker: the queue only fills. One image fits; the second request overflows it.
  Batcher batcher{{8, std::chrono::microseconds(0), 1}, models, {}, false};
  REQUIRE(batcher.submit(std::vector<float>(784, 0.0F), 1).ok());
  Server server{ServerOptions{}, ServeContext{models, batcher, metrics, {}}};
  httplib::Response res;
  server.invocations(post("{\"inputs\": [" + image_json(1) + "]}", "application/json"), res);
  CHECK(res.status == 429);
  CHECK(Json::parse(res.body)["error_code"] == "RESOURCE_EXHAUSTED");
}

TEST_CASE("server: /predict classifies an uploaded image, raw or as a form, bad uploads get 4xx") {
  Fixture f;
  // A 60x40 grey upload: a light 30x30 square (200) on black. Cropped to it and stretched, the
  // input is all 1.0, and the fake answers class 9 for a first pixel of 0.95 and more.
  testing::RawImage image{60, 40, 1, std::vector<std::uint8_t>(60 * 40, 0)};
  for (int y = 5; y < 35; ++y) {
    for (int x = 15; x < 45; ++x) image.pixels[static_cast<std::size_t>(y * 60 + x)] = 200;
  }
  const std::string png = testing::encode_png(image);
  httplib::Response raw;
  f.server.predict(post(png, "image/png"), raw);
  REQUIRE_MESSAGE(raw.status == 200, raw.body);
  auto body = Json::parse(raw.body);
  CHECK(body["class"] == 9);
  CHECK(body["class_name"] == "c9");
  CHECK(body["probabilities"].size() == 10);
  CHECK(body["top"].size() == 3);
  CHECK(body["model"]["version"] == "4");
  CHECK(body["input"]["width"] == 60);

  httplib::Request form = post("", "multipart/form-data; boundary=x");
  form.files.emplace("file", httplib::MultipartFormData{"file", png, "garment.png", "image/png"});
  httplib::Response by_form;
  f.server.predict(form, by_form);
  CHECK(by_form.status == 200);

  httplib::Request no_file = post("", "multipart/form-data; boundary=x");
  httplib::Response missing;
  f.server.predict(no_file, missing);
  CHECK(missing.status == 400);
  CHECK(Json::parse(missing.body)["message"].get<std::string>().find("\"file\"") !=
        std::string::npos);

  httplib::Response text;
  f.server.predict(post("hello", "text/plain"), text);
  CHECK(text.status == 415);
  httplib::Response junk;
  f.server.predict(post("not an image at all", "image/png"), junk);
  CHECK(junk.status == 400);
  CHECK(Json::parse(junk.body)["message"].get<std::string>().find("not a PNG or JPEG") !=
        std::string::npos);
}

TEST_CASE("server: GET / answers the page as HTML") {
  Fixture f;
  httplib::Response res;
  f.server.page({}, res);
  CHECK(res.status == 200);
  CHECK(res.get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(res.get_header_value("Cache-Control") == "no-cache");
  CHECK(res.body == index_page());
}

TEST_CASE("server: route labels stay few") {
  CHECK(Server::route_of("/v2/models/x/versions/2/infer") == "/v2/infer");
  CHECK(Server::route_of("/v2/models/x/ready") == "/v2/models");
  CHECK(Server::route_of("/invocations") == "/invocations");
  CHECK(Server::route_of("/etc/passwd") == "other");
}

}  // namespace
}  // namespace mlflow::serve
