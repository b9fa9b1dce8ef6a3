// SPDX-License-Identifier: Apache-2.0
// Request bodies of MLflow's scoring protocol and Open Inference Protocol v2.
#include "tensor_payload.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "predictor.h"

namespace mlflow::serve {
namespace {

using Json = nlohmann::json;

// One 28x28 image whose pixel (r, c) is (r * 28 + c) / 784, nested as [1][28][28].
Json nested_image() {
  Json rows = Json::array();
  for (int r = 0; r < 28; ++r) {
    Json row = Json::array();
    for (int c = 0; c < 28; ++c) row.push_back((r * 28 + c) / 784.0);
    rows.push_back(row);
  }
  return Json::array({rows});
}

Json flat_image() {
  Json flat = Json::array();
  for (int i = 0; i < 784; ++i) flat.push_back(i / 784.0);
  return flat;
}

void check_image(const ImageBatch& b, std::int64_t n) {
  REQUIRE(b.n == n);
  REQUIRE(b.images.size() == static_cast<std::size_t>(n * kImageSize));
  CHECK(b.images[0] == 0.0F);
  CHECK(b.images[783] == doctest::Approx(783 / 784.0));
  CHECK(b.images[static_cast<std::size_t>((n - 1) * kImageSize + 29)] ==
        doctest::Approx(29 / 784.0));
}

TEST_CASE("scoring payload: inputs, instances, dataframe_split and dataframe_records all work") {
  auto inputs = parse_scoring_request(Json{{"inputs", {nested_image(), nested_image()}}}.dump());
  REQUIRE_MESSAGE(inputs.ok(), inputs.status().to_string());
  check_image(*inputs, 2);

  auto named = parse_scoring_request(Json{{"inputs", {{"images", {nested_image()}}}}}.dump());
  REQUIRE_MESSAGE(named.ok(), named.status().to_string());
  check_image(*named, 1);

  auto instances = parse_scoring_request(Json{{"instances", {nested_image()}}}.dump());
  REQUIRE_MESSAGE(instances.ok(), instances.status().to_string());
  check_image(*instances, 1);

  Json columns = Json::array();
  for (int i = 0; i < 784; ++i) columns.push_back("p" + std::to_string(i));
  auto split = parse_scoring_request(
      Json{{"dataframe_split", {{"columns", columns}, {"data", {flat_image(), flat_image()}}}}}
          .dump());
  REQUIRE_MESSAGE(split.ok(), split.status().to_string());
  check_image(*split, 2);

  // Records keep the columns' order even when the names do not sort that way.
  std::string record = "{";
  for (int i = 0; i < 784; ++i) {
    record +=
        (i ? "," : "") + std::string("\"p") + std::to_string(i) + "\":" + std::to_string(i / 784.0);
  }
  record += "}";
  auto records = parse_scoring_request("{\"dataframe_records\":[" + record + "]}");
  REQUIRE_MESSAGE(records.ok(), records.status().to_string());
  check_image(*records, 1);

  auto one_column =
      parse_scoring_request(Json{{"dataframe_records", {{{"image", nested_image()}}}}}.dump());
  REQUIRE_MESSAGE(one_column.ok(), one_column.status().to_string());
  check_image(*one_column, 1);
}

TEST_CASE("scoring payload: bad bodies are refused with a message naming what is wrong") {
  struct Case {
    std::string body;
    std::string expected;
  };
  for (const auto& c : {
           Case{"", "empty"},
           Case{"{\"inputs\": [1, 2", "malformed JSON"},
           Case{"[1, 2]", "received a JSON array"},
           Case{"{\"data\": []}", "received the fields [data]"},
           Case{Json{{"inputs", {nested_image()}}, {"instances", {nested_image()}}}.dump(),
                "[inputs, instances]"},
           Case{Json{{"inputs", {{1, 2, 3}}}}.dump(), "shape [1, 3]"},
           Case{Json{{"inputs", {{{"a"}}}}}.dump(), "inputs[0][0][0] is string"},
           Case{Json{{"inputs", {{1, 2}, {3}}}}.dump(), "not rectangular"},
           Case{Json{{"inputs", {{"x", {nested_image()}}, {"y", {nested_image()}}}}}.dump(),
                "names 2 tensors"},
           Case{Json{{"dataframe_split", {{"columns", {"a"}}}}}.dump(), "\"data\" list"},
       }) {
    auto parsed = parse_scoring_request(c.body);
    INFO(c.body.substr(0, 80));
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == StatusCode::kInvalidArgument);
    CHECK_MESSAGE(parsed.status().message().find(c.expected) != std::string::npos,
                  parsed.status().message());
  }
}

TEST_CASE("scoring payload: more images than a request may carry are refused") {
  Json many = Json::array();
  for (std::int64_t i = 0; i <= kMaxRequestImages; ++i) many.push_back(flat_image());
  auto parsed = parse_scoring_request(Json{{"inputs", many}}.dump());
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().message().find("1024 at most") != std::string::npos);
}

TEST_CASE(
    "inference protocol v2: FP32 tensors flat or nested; wrong dtype, shape or count refused") {
  Json request{{"id", "r1"},
               {"inputs",
                {{{"name", "images"},
                  {"shape", {1, 1, 28, 28}},
                  {"datatype", "FP32"},
                  {"data", flat_image()}}}}};
  auto flat = parse_inference_request(request.dump());
  REQUIRE_MESSAGE(flat.ok(), flat.status().to_string());
  check_image(*flat, 1);
  CHECK(flat->id == "r1");
  request["inputs"][0]["data"] = {nested_image()};
  auto nested = parse_inference_request(request.dump());
  REQUIRE_MESSAGE(nested.ok(), nested.status().to_string());
  check_image(*nested, 1);

  auto with = [&](const char* key, Json value) {
    Json r = request;
    r["inputs"][0][key] = std::move(value);
    return parse_inference_request(r.dump());
  };
  CHECK(with("datatype", "INT64").status().message().find("reads FP32") != std::string::npos);
  CHECK(with("shape", {1, 3, 28, 28}).status().message().find("shape [1, 3, 28, 28]") !=
        std::string::npos);
  CHECK(with("shape", {2, 1, 28, 28}).status().message().find("needs 1568") != std::string::npos);
  Json two = request;
  two["inputs"].push_back(request["inputs"][0]);
  CHECK(parse_inference_request(two.dump()).status().message().find("2 inputs") !=
        std::string::npos);
}

TEST_CASE("responses: predictions rows, and the v2 output tensor") {
  const std::vector<float> probs = {0.25F, 0.75F, 1.0F, 0.0F};
  CHECK(Json::parse(scoring_response(probs, 2)) == Json{{"predictions", {{0.25, 0.75}, {1, 0}}}});
  auto v2 = Json::parse(inference_response(probs, 2, "m", "3", "r1"));
  CHECK(v2["model_name"] == "m");
  CHECK(v2["model_version"] == "3");
  CHECK(v2["id"] == "r1");
  CHECK(v2["outputs"][0]["shape"] == Json{2, 2});
  CHECK(v2["outputs"][0]["datatype"] == "FP32");
  CHECK(v2["outputs"][0]["data"].size() == 4);
}

}  // namespace
}  // namespace mlflow::serve
