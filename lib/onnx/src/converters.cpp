// SPDX-License-Identifier: Apache-2.0
// The built-in converters: LibTorch's standard layers, each emitting its ONNX operator (opset 17)
// and computing its LibTorch output with the module itself.
#include "converters.h"

#include <fmt/format.h>

#include <ATen/ops/full.h>
#include <ATen/ops/rsqrt.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/adaptive.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include "mlflow/onnx/ops.h"

namespace mlflow::onnx {
namespace {

namespace nn = torch::nn;
using Ints = std::vector<std::int64_t>;

Status unsupported(const torch::nn::Module& m, const std::string& path, const std::string& what) {
  return Status(StatusCode::kUnimplemented, fmt::format("cannot export {} ({}) to ONNX: {}",
                                                        module_label(path), m.name(), what));
}

template <std::size_t D>
Ints ints(const torch::ExpandingArray<D>& a) {
  return Ints(a->begin(), a->end());
}
/// ONNX pads: all the begins, then all the ends.
template <std::size_t D>
Ints pads(const torch::ExpandingArray<D>& a) {
  Ints p = ints(a);
  p.insert(p.end(), a->begin(), a->end());
  return p;
}

/// Registers `f(Impl&, input, path, exporter)` for modules of type Impl.
template <class Impl, class F>
void add(Exporter& ex, F f) {
  ex.add_converter<Impl>(
      [f](torch::nn::Module& m, const Value& in, const std::string& path,
          Exporter& e) -> StatusOr<Value> { return f(dynamic_cast<Impl&>(m), in, path, e); });
}

/// A module that maps one input to one output with a single attribute-free operator.
template <class Impl>
void add_elementwise(Exporter& ex, const char* op) {
  add<Impl>(ex, [op](Impl& m, const Value& in, const std::string& path, Exporter& e) {
    return StatusOr<Value>(
        Value{e.graph().add_node(op, {in.name}, {}, path), m.forward(in.example)});
  });
}

StatusOr<Value> sequential(nn::SequentialImpl& seq, const Value& in, const std::string& path,
                           Exporter& ex) {
  Value v = in;
  for (const auto& child : seq.named_children()) {
    auto out = ex.convert(*child.value(), v, path.empty() ? child.key() : path + "." + child.key());
    if (!out.ok()) return out.status();
    v = std::move(*out);
  }
  return v;
}

StatusOr<Value> conv2d(nn::Conv2dImpl& conv, const Value& in, const std::string& path,
                       Exporter& ex) {
  const auto& o = conv.options;
  if (!c10::get_if<torch::enumtype::kZeros>(&o.padding_mode())) {
    return unsupported(conv, path, "only zero padding is supported");
  }
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (padding == nullptr) {
    return unsupported(conv, path, "padding 'valid' or 'same': give the padding in pixels");
  }
  Graph& g = ex.graph();
  std::vector<std::string> inputs = {in.name, g.add_initializer(path + ".weight", conv.weight)};
  if (conv.bias.defined()) inputs.push_back(g.add_initializer(path + ".bias", conv.bias));
  const std::vector<Attribute> attrs = {{"kernel_shape", ints(o.kernel_size())},
                                        {"strides", ints(o.stride())},
                                        {"pads", pads(*padding)},
                                        {"dilations", ints(o.dilation())},
                                        {"group", o.groups()}};
  return Value{g.add_node("Conv", inputs, attrs, path), conv.forward(in.example)};
}

/// Eval-mode batch norm: running statistics, weight and bias (ones and zeros without affine).
struct NormTensors {
  at::Tensor scale, bias, mean, var;
};
template <class Impl>
StatusOr<NormTensors> norm_tensors(Impl& bn, const std::string& path) {
  if (!bn.options.track_running_stats()) {
    return unsupported(bn, path,
                       "without running statistics it normalises by each batch's own, which "
                       "an inference graph cannot");
  }
  NormTensors t{bn.weight, bn.bias, bn.running_mean, bn.running_var};
  if (!bn.options.affine()) {
    t.scale = at::full({bn.options.num_features()}, 1.0F);
    t.bias = at::full({bn.options.num_features()}, 0.0F);
  }
  return t;
}

StatusOr<Value> batch_norm2d(nn::BatchNorm2dImpl& bn, const Value& in, const std::string& path,
                             Exporter& ex) {
  auto t = norm_tensors(bn, path);
  if (!t.ok()) return t.status();
  Graph& g = ex.graph();
  const std::vector<std::string> inputs = {in.name, g.add_initializer(path + ".weight", t->scale),
                                           g.add_initializer(path + ".bias", t->bias),
                                           g.add_initializer(path + ".running_mean", t->mean),
                                           g.add_initializer(path + ".running_var", t->var)};
  return Value{g.add_node("BatchNormalization", inputs,
                          {{"epsilon", static_cast<float>(bn.options.eps())}}, path),
               bn.forward(in.example)};
}

// Over N x C, as x * s + b with s = weight / sqrt(var + eps), b = bias - mean * s: how ATen's CPU
// kernel computes it too. (BatchNormalization wants spatial dimensions.)
StatusOr<Value> batch_norm1d(nn::BatchNorm1dImpl& bn, const Value& in, const std::string& path,
                             Exporter& ex) {
  if (in.example.dim() != 2) {
    return unsupported(bn, path, "only N x C input is supported (not N x C x L)");
  }
  auto t = norm_tensors(bn, path);
  if (!t.ok()) return t.status();
  const at::Tensor scale = t->scale * at::rsqrt(t->var + bn.options.eps());
  const at::Tensor shift = t->bias - t->mean * scale;
  Graph& g = ex.graph();
  const std::string scaled =
      g.add_node("Mul", {in.name, g.add_initializer(path + ".scale", scale)}, {}, path);
  return Value{g.add_node("Add", {scaled, g.add_initializer(path + ".shift", shift)}, {}, path),
               bn.forward(in.example)};
}

StatusOr<Value> linear(nn::LinearImpl& fc, const Value& in, const std::string& path, Exporter& ex) {
  Graph& g = ex.graph();
  const at::Tensor out = fc.forward(in.example);
  if (in.example.dim() == 2) {
    std::vector<std::string> inputs = {in.name, g.add_initializer(path + ".weight", fc.weight)};
    if (fc.bias.defined()) inputs.push_back(g.add_initializer(path + ".bias", fc.bias));
    return Value{g.add_node("Gemm", inputs, {{"transB", std::int64_t{1}}}, path), out};
  }
  // Over any leading dimensions: x @ W^T (+ b).
  std::string y = g.add_node(
      "MatMul", {in.name, g.add_initializer(path + ".weight_t", fc.weight.t())}, {}, path);
  if (fc.bias.defined()) {
    y = g.add_node("Add", {y, g.add_initializer(path + ".bias", fc.bias)}, {}, path);
  }
  return Value{y, out};
}

StatusOr<Value> relu6(nn::ReLU6Impl& m, const Value& in, const std::string& path, Exporter& ex) {
  Graph& g = ex.graph();
  const std::string lo = g.add_initializer(path + ".min", at::full({}, 0.0F));
  const std::string hi = g.add_initializer(path + ".max", at::full({}, 6.0F));
  return Value{g.add_node("Clip", {in.name, lo, hi}, {}, path), m.forward(in.example)};
}

StatusOr<Value> max_pool2d(nn::MaxPool2dImpl& m, const Value& in, const std::string& path,
                           Exporter& ex) {
  const auto& o = m.options;
  const std::vector<Attribute> attrs = {{"kernel_shape", ints(o.kernel_size())},
                                        {"strides", ints(o.stride())},
                                        {"pads", pads(o.padding())},
                                        {"dilations", ints(o.dilation())},
                                        {"ceil_mode", std::int64_t{o.ceil_mode()}}};
  return Value{ex.graph().add_node("MaxPool", {in.name}, attrs, path), m.forward(in.example)};
}

StatusOr<Value> avg_pool2d(nn::AvgPool2dImpl& m, const Value& in, const std::string& path,
                           Exporter& ex) {
  const auto& o = m.options;
  if (o.divisor_override().has_value()) return unsupported(m, path, "divisor_override is set");
  const std::vector<Attribute> attrs = {{"kernel_shape", ints(o.kernel_size())},
                                        {"strides", ints(o.stride())},
                                        {"pads", pads(o.padding())},
                                        {"ceil_mode", std::int64_t{o.ceil_mode()}},
                                        {"count_include_pad", std::int64_t{o.count_include_pad()}}};
  return Value{ex.graph().add_node("AveragePool", {in.name}, attrs, path), m.forward(in.example)};
}

StatusOr<Value> adaptive_avg_pool(nn::AdaptiveAvgPool2dImpl& m, const Value& in,
                                  const std::string& path, Exporter& ex) {
  if (in.example.dim() != 4) return unsupported(m, path, "only N x C x H x W input is supported");
  const auto& size = *m.options.output_size();
  // An unset side keeps the input's size.
  const std::int64_t h = size[0].value_or(in.example.size(2));
  const std::int64_t w = size[1].value_or(in.example.size(3));
  return adaptive_avg_pool2d(ex.graph(), in, h, w, path);
}

StatusOr<Value> flatten_module(nn::FlattenImpl& m, const Value& in, const std::string& path,
                               Exporter& ex) {
  const std::int64_t rank = in.example.dim();
  const std::int64_t end =
      m.options.end_dim() < 0 ? m.options.end_dim() + rank : m.options.end_dim();
  if (m.options.start_dim() != 1 || end != rank - 1) {
    return unsupported(m, path,
                       fmt::format("only Flatten(start_dim=1, end_dim=-1) is supported, not "
                                   "start_dim={}, end_dim={}",
                                   m.options.start_dim(), m.options.end_dim()));
  }
  return flatten(ex.graph(), in, 1, path);
}

template <class Impl>
StatusOr<Value> softmax(Impl& m, const char* op, const Value& in, const std::string& path,
                        Exporter& ex) {
  return Value{ex.graph().add_node(op, {in.name}, {{"axis", m.options.dim()}}, path),
               m.forward(in.example)};
}

}  // namespace

std::string module_label(const std::string& path) {
  return path.empty() ? "the root module" : "module '" + path + "'";
}

void add_standard_converters(Exporter& ex) {
  add<nn::SequentialImpl>(ex, sequential);
  add<nn::Conv2dImpl>(ex, conv2d);
  add<nn::BatchNorm2dImpl>(ex, batch_norm2d);
  add<nn::BatchNorm1dImpl>(ex, batch_norm1d);
  add<nn::LinearImpl>(ex, linear);
  add_elementwise<nn::ReLUImpl>(ex, "Relu");
  add_elementwise<nn::SigmoidImpl>(ex, "Sigmoid");
  add_elementwise<nn::TanhImpl>(ex, "Tanh");
  add<nn::ReLU6Impl>(ex, relu6);
  // Dropout does nothing in eval mode, which is what is exported; nor does Identity.
  auto pass = [](auto&, const Value& in, const std::string&, Exporter&) {
    return StatusOr<Value>(in);
  };
  add<nn::DropoutImpl>(ex, pass);
  add<nn::IdentityImpl>(ex, pass);
  add<nn::MaxPool2dImpl>(ex, max_pool2d);
  add<nn::AvgPool2dImpl>(ex, avg_pool2d);
  add<nn::AdaptiveAvgPool2dImpl>(ex, adaptive_avg_pool);
  add<nn::FlattenImpl>(ex, flatten_module);
  add<nn::SoftmaxImpl>(ex, [](nn::SoftmaxImpl& m, const Value& in, const std::string& path,
                              Exporter& e) { return softmax(m, "Softmax", in, path, e); });
  add<nn::LogSoftmaxImpl>(ex, [](nn::LogSoftmaxImpl& m, const Value& in, const std::string& path,
                                 Exporter& e) { return softmax(m, "LogSoftmax", in, path, e); });
}

}  // namespace mlflow::onnx
