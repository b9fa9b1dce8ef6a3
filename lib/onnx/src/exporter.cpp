// SPDX-License-Identifier: Apache-2.0
// Dispatch by module type, the model around the graph (input, normalisation, output, opset), the
// checks of libonnx, and the atomic write.
#include "mlflow/onnx/exporter.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <onnx/checker.h>
#include <onnx/common/version.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <exception>

#include <ATen/ops/arange.h>
#include <ATen/ops/sin.h>
#include <ATen/ops/tensor.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "converters.h"
#include "mlflow/atomic_file.h"

#ifndef MLFLOW_CPP_VERSION
#define MLFLOW_CPP_VERSION "unknown"
#endif

namespace mlflow::onnx {
namespace {

Status invalid(const std::string& what) { return Status(StatusCode::kInvalidArgument, what); }

Status check_options(const ExportOptions& o) {
  if (o.input_shape.empty() || std::any_of(o.input_shape.begin(), o.input_shape.end(),
                                           [](std::int64_t d) { return d <= 0; })) {
    return invalid(
        "the model has no input shape: give one sample's shape (positive sizes, no batch "
        "dimension), e.g. {1, 28, 28}");
  }
  const auto channels = static_cast<std::size_t>(o.input_shape.front());
  if (o.input_mean.size() != o.input_std.size() ||
      (!o.input_mean.empty() && o.input_mean.size() != 1 && o.input_mean.size() != channels)) {
    return invalid(fmt::format(
        "input normalisation: mean ({} values) and std ({} values) must have the same length, 1 "
        "or one per channel ({})",
        o.input_mean.size(), o.input_std.size(), channels));
  }
  if (std::any_of(o.input_std.begin(), o.input_std.end(), [](double v) { return !(v > 0); })) {
    return invalid("input normalisation: std values must be above 0");
  }
  if (o.input_name.empty() || o.output_name.empty() || o.input_name == o.output_name) {
    return invalid("the graph's input and output need two different, non-empty names");
  }
  return ok_status();
}

/// A fixed, varied example batch of two samples in [0, 1]: shapes are all the export needs from
/// it, and no random generator is touched.
at::Tensor example_batch(const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> sizes = {2};
  sizes.insert(sizes.end(), shape.begin(), shape.end());
  std::int64_t n = 1;
  for (auto d : sizes) n *= d;
  return (at::sin(at::arange(n, at::kFloat)) * 0.5 + 0.5).reshape(sizes);
}

/// A per-channel constant shaped to broadcast over C x H x W ... (one value: a scalar).
at::Tensor channel_constant(const std::vector<double>& values, std::size_t rank) {
  std::vector<float> f(values.begin(), values.end());
  at::Tensor t = at::tensor(f);
  if (values.size() == 1) return t.reshape({});
  std::vector<std::int64_t> shape(rank, 1);
  shape[0] = static_cast<std::int64_t>(values.size());
  return t.reshape(shape);
}

void set_tensor_type(::onnx::ValueInfoProto* info, const std::string& name, const at::Tensor& t) {
  info->set_name(name);
  auto* type = info->mutable_type()->mutable_tensor_type();
  type->set_elem_type(::onnx::TensorProto::FLOAT);
  auto* shape = type->mutable_shape();
  shape->add_dim()->set_dim_param("batch");
  for (std::int64_t i = 1; i < t.dim(); ++i) shape->add_dim()->set_dim_value(t.size(i));
}

/// Puts the module in eval mode for the export and gives it back its mode.
class EvalMode {
 public:
  explicit EvalMode(torch::nn::Module& m) : module_(m), was_training_(m.is_training()) {
    module_.eval();
  }
  ~EvalMode() { module_.train(was_training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

std::string first_line(const std::exception& e) {
  std::string s = e.what();
  return s.substr(0, s.find('\n'));
}

}  // namespace

Exporter::Exporter() { add_standard_converters(*this); }

StatusOr<Value> Exporter::convert(torch::nn::Module& module, const Value& input,
                                  const std::string& path) {
  const auto it = converters_.find(std::type_index(typeid(module)));
  if (it == converters_.end()) {
    return Status(StatusCode::kUnimplemented,
                  fmt::format("cannot export {} to ONNX: no converter for its type {} (register "
                              "one with mlflow::onnx::Exporter::add_converter)",
                              module_label(path), module.name()));
  }
  return it->second(module, input, path, *this);
}

StatusOr<ExportedModel> Exporter::build(torch::nn::Module& module, const ExportOptions& options) {
  MLFLOW_CPP_RETURN_IF_ERROR(check_options(options));
  Graph graph;
  graph_ = &graph;
  struct Reset {
    Graph*& g;
    ~Reset() { g = nullptr; }
  } reset{graph_};

  EvalMode eval(module);
  torch::NoGradGuard no_grad;
  Value x{options.input_name, example_batch(options.input_shape)};
  StatusOr<Value> out = Status();
  try {
    if (!options.input_mean.empty()) {
      const std::size_t rank = options.input_shape.size();
      const at::Tensor mean = channel_constant(options.input_mean, rank);
      const at::Tensor std_dev = channel_constant(options.input_std, rank);
      const std::string centred =
          graph.add_node("Sub", {x.name, graph.add_initializer("input_mean", mean)}, {}, "input");
      x = {graph.add_node("Div", {centred, graph.add_initializer("input_std", std_dev)}, {},
                          "input"),
           (x.example - mean) / std_dev};
    }
    out = convert(module, x, "");
  } catch (const std::exception& e) {
    return invalid(fmt::format("the module does not take input of shape [N, {}]: {}",
                               fmt::join(options.input_shape, ", "), first_line(e)));
  }
  if (!out.ok()) return out.status();

  ::onnx::ModelProto model;
  model.set_ir_version(::onnx::IR_VERSION);
  model.set_producer_name("mlflow-cpp");
  model.set_producer_version(MLFLOW_CPP_VERSION);
  if (!options.doc_string.empty()) model.set_doc_string(options.doc_string);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  auto* g = model.mutable_graph();
  g->Swap(static_cast<::onnx::GraphProto*>(graph.proto()));
  g->set_name("mlflow_cpp_export");
  // The last node's output takes the output's name (a module that computes nothing, an Identity).
  if (out->name == options.input_name) {
    auto* node = g->add_node();
    node->set_op_type("Identity");
    node->add_input(out->name);
    node->add_output(options.output_name);
  } else {
    for (auto& node : *g->mutable_node()) {
      for (auto& name : *node.mutable_output()) {
        if (name == out->name) name = options.output_name;
      }
      for (auto& name : *node.mutable_input()) {
        if (name == out->name) name = options.output_name;
      }
    }
  }
  set_tensor_type(g->add_input(), options.input_name, x.example);
  set_tensor_type(g->add_output(), options.output_name, out->example);

  try {
    ::onnx::checker::check_model(model);
    ::onnx::ModelProto inferred = model;
    ::onnx::ShapeInferenceOptions strict{/*check_type=*/true, /*error_mode=*/1,
                                         /*enable_data_propagation=*/false};
    ::onnx::shape_inference::InferShapes(inferred, ::onnx::OpSchemaRegistry::Instance(), strict);
  } catch (const std::exception& e) {
    return Status(StatusCode::kInternal,
                  "ONNX's checker refuses the exported graph: " + first_line(e));
  }
  ExportedModel exported;
  if (!model.SerializeToString(&exported.bytes)) {
    return Status(StatusCode::kInternal, "the ONNX model does not serialise (over 2 GiB?)");
  }
  ExportInfo& info = exported.info;
  info.onnx_version = ::onnx::LAST_RELEASE_VERSION;
  for (std::int64_t i = 1; i < out->example.dim(); ++i) {
    info.output_shape.push_back(out->example.size(i));
  }
  info.op_types = graph.op_types();
  info.bytes = exported.bytes.size();
  return exported;
}

StatusOr<ExportInfo> Exporter::export_module(torch::nn::Module& module,
                                             const ExportOptions& options,
                                             const std::string& path) {
  auto exported = build(module, options);
  if (!exported.ok()) return exported.status().with_context("exporting to '" + path + "'");
  MLFLOW_CPP_RETURN_IF_ERROR(
      write_file_atomically(path, exported->bytes).with_context("writing the ONNX model"));
  return exported->info;
}

}  // namespace mlflow::onnx
