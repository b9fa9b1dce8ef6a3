// SPDX-License-Identifier: Apache-2.0
#include "tensor_payload.h"

#include <cmath>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "predictor.h"

namespace mlflow::serve {
namespace {

// Record keys keep their order: a dataframe's columns are positional.
using Json = nlohmann::ordered_json;

Status bad(const std::string& message) { return {StatusCode::kInvalidArgument, message}; }

StatusOr<Json> parse_json(std::string_view body) {
  if (body.empty()) return bad("the request body is empty; send a JSON object");
  try {
    return Json::parse(body.begin(), body.end());
  } catch (const Json::parse_error& e) {
    return bad(std::string("malformed JSON: ") + e.what());
  }
}

// Flattens a nested array of numbers, checking it is rectangular; `shape` gets its dimensions.
Status flatten(const Json& value, const std::string& where, std::size_t depth,
               std::vector<std::int64_t>& shape, std::vector<float>& out) {
  if (value.is_array()) {
    if (depth == shape.size()) {
      if (!out.empty()) return bad(where + " is not rectangular: an array where a number was");
      shape.push_back(static_cast<std::int64_t>(value.size()));
    } else if (shape[depth] != static_cast<std::int64_t>(value.size())) {
      return bad(fmt::format("{} is not rectangular: {} elements where {} were before", where,
                             value.size(), shape[depth]));
    }
    for (std::size_t i = 0; i < value.size(); ++i) {
      MLFLOW_CPP_RETURN_IF_ERROR(
          flatten(value[i], fmt::format("{}[{}]", where, i), depth + 1, shape, out));
    }
    return Status();
  }
  if (depth != shape.size()) {
    return bad(where + " is not rectangular: a number where an array was");
  }
  if (!value.is_number()) {
    return bad(fmt::format("{} is {} ({}); the model reads float32 numbers", where,
                           value.type_name(), value.dump().substr(0, 40)));
  }
  const double v = value.get<double>();
  if (!std::isfinite(v)) return bad(where + " is not a finite number");
  out.push_back(static_cast<float>(v));
  return Status();
}

// Checks that `shape` is one of the accepted image batch shapes and returns N.
StatusOr<std::int64_t> images_in(const std::vector<std::int64_t>& shape, const std::string& what) {
  const auto shown = fmt::format("[{}]", fmt::join(shape, ", "));
  const bool ok =
      (shape.size() == 4 && shape[1] == 1 && shape[2] == kImageSide && shape[3] == kImageSide) ||
      (shape.size() == 3 && shape[1] == kImageSide && shape[2] == kImageSide) ||
      (shape.size() == 2 && shape[1] == kImageSize);
  if (!ok || shape[0] < 1) {
    return bad(fmt::format(
        "{} has shape {}; the model's signature is float32 [-1, 1, 28, 28] (pixel / 255; "
        "[-1, 28, 28] and [-1, 784] are accepted too)",
        what, shown));
  }
  if (shape[0] > kMaxRequestImages) {
    return bad(fmt::format("{} holds {} images; one request may carry {} at most", what, shape[0],
                           kMaxRequestImages));
  }
  return shape[0];
}

StatusOr<ImageBatch> batch_of(const Json& tensor, const std::string& what) {
  ImageBatch batch;
  std::vector<std::int64_t> shape;
  MLFLOW_CPP_RETURN_IF_ERROR(flatten(tensor, what, 0, shape, batch.images));
  auto n = images_in(shape, what);
  if (!n.ok()) return n.status();
  batch.n = *n;
  return batch;
}

// A named-tensor object {"name": tensor} must hold exactly one tensor.
StatusOr<Json> single_tensor(const Json& value, const std::string& what) {
  if (!value.is_object()) return value;
  if (value.size() != 1) {
    return bad(fmt::format("{} names {} tensors; the model has one input", what, value.size()));
  }
  return value.begin().value();
}

// Dataframe rows: each row is either 784 pixel columns or one column holding an image.
StatusOr<ImageBatch> batch_of_rows(const Json& rows, const std::string& what) {
  Json images = Json::array();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Json& row = rows[i];
    Json cells = Json::array();
    if (row.is_object()) {
      for (const auto& [key, cell] : row.items()) cells.push_back(cell);
    } else if (row.is_array()) {
      cells = row;
    } else {
      return bad(fmt::format("{}[{}] is {}, not a row", what, i, row.type_name()));
    }
    images.push_back(cells.size() == 1 ? cells[0] : cells);
  }
  return batch_of(images, what);
}

}  // namespace

StatusOr<ImageBatch> parse_scoring_request(std::string_view body) {
  auto json = parse_json(body);
  if (!json.ok()) return json.status();
  if (!json->is_object()) {
    return bad(fmt::format(
        "the input must be a JSON object with exactly one of the input fields dataframe_split, "
        "dataframe_records, instances, inputs; received a JSON {}",
        json->type_name()));
  }
  std::vector<std::string> present;
  for (const char* key : {"dataframe_split", "dataframe_records", "instances", "inputs"}) {
    if (json->contains(key)) present.emplace_back(key);
  }
  if (present.size() != 1) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : json->items()) keys.push_back(key);
    return bad(fmt::format(
        "the input must be a JSON object with exactly one of the input fields dataframe_split, "
        "dataframe_records, instances, inputs; received the fields [{}]",
        fmt::join(keys, ", ")));
  }
  const std::string& key = present.front();
  const Json& value = (*json)[key];
  if (key == "inputs") {
    auto tensor = single_tensor(value, key);
    if (!tensor.ok()) return tensor.status();
    return batch_of(*tensor, key);
  }
  if (key == "instances") {
    if (!value.is_array()) return bad("instances must be a list of images");
    Json images = Json::array();
    for (std::size_t i = 0; i < value.size(); ++i) {
      auto tensor = single_tensor(value[i], fmt::format("instances[{}]", i));
      if (!tensor.ok()) return tensor.status();
      images.push_back(*tensor);
    }
    return batch_of(images, key);
  }
  if (key == "dataframe_split") {
    if (!value.is_object() || !value.contains("data") || !value["data"].is_array()) {
      return bad(
          "dataframe_split must be an object with a \"data\" list of rows (and "
          "optionally \"columns\" and \"index\")");
    }
    return batch_of_rows(value["data"], "dataframe_split.data");
  }
  if (!value.is_array()) return bad("dataframe_records must be a list of records");
  return batch_of_rows(value, key);
}

StatusOr<ImageBatch> parse_inference_request(std::string_view body) {
  auto json = parse_json(body);
  if (!json.ok()) return json.status();
  if (!json->is_object() || !json->contains("inputs") || !(*json)["inputs"].is_array()) {
    return bad("the request must be a JSON object with an \"inputs\" list of tensors");
  }
  const Json& inputs = (*json)["inputs"];
  if (inputs.size() != 1) {
    return bad(
        fmt::format("the request has {} inputs; the model has one, float32 "
                    "[-1, 1, 28, 28]",
                    inputs.size()));
  }
  const Json& input = inputs[0];
  if (!input.is_object() || !input.contains("shape") || !input.contains("datatype") ||
      !input.contains("data")) {
    return bad(R"(inputs[0] must have "name", "shape", "datatype" and "data")");
  }
  if (input["datatype"] != "FP32") {
    return bad(
        fmt::format("inputs[0].datatype is {}; the model reads FP32", input["datatype"].dump()));
  }
  std::vector<std::int64_t> shape;
  try {
    shape = input["shape"].get<std::vector<std::int64_t>>();
  } catch (const Json::exception&) {
    return bad("inputs[0].shape must be a list of integers");
  }
  auto n = images_in(shape, "inputs[0]");
  if (!n.ok()) return n.status();
  ImageBatch batch;
  std::vector<std::int64_t> data_shape;
  MLFLOW_CPP_RETURN_IF_ERROR(flatten(input["data"], "inputs[0].data", 0, data_shape, batch.images));
  if (static_cast<std::int64_t>(batch.images.size()) != *n * kImageSize) {
    return bad(fmt::format("inputs[0].data holds {} numbers; shape [{}] needs {}",
                           batch.images.size(), fmt::join(shape, ", "), *n * kImageSize));
  }
  batch.n = *n;
  if (json->contains("id") && (*json)["id"].is_string()) batch.id = (*json)["id"];
  return batch;
}

namespace {
Json rows_of(const std::vector<float>& probabilities, std::int64_t n) {
  Json rows = Json::array();
  const std::size_t per = n > 0 ? probabilities.size() / static_cast<std::size_t>(n) : 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto* row = probabilities.data() + static_cast<std::size_t>(i) * per;
    rows.push_back(std::vector<float>(row, row + per));
  }
  return rows;
}
}  // namespace

std::string scoring_response(const std::vector<float>& probabilities, std::int64_t n) {
  return Json{{"predictions", rows_of(probabilities, n)}}.dump();
}

std::string inference_response(const std::vector<float>& probabilities, std::int64_t n,
                               const std::string& model_name, const std::string& model_version,
                               const std::string& id) {
  const std::int64_t classes = n > 0 ? static_cast<std::int64_t>(probabilities.size()) / n : 0;
  Json out{{"model_name", model_name},
           {"model_version", model_version},
           {"outputs", Json::array({Json{{"name", "probabilities"},
                                         {"datatype", "FP32"},
                                         {"shape", {n, classes}},
                                         {"data", probabilities}}})}};
  if (!id.empty()) out["id"] = id;
  return out.dump();
}

}  // namespace mlflow::serve
