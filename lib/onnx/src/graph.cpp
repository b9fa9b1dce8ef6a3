// SPDX-License-Identifier: Apache-2.0
// The graph as libonnx's protobuf GraphProto: nodes, initializers, unique names.
#include "mlflow/onnx/graph.h"

#include <onnx/onnx_pb.h>

#include <set>
#include <stdexcept>
#include <type_traits>
#include <unordered_set>

namespace mlflow::onnx {

struct Graph::Impl {
  ::onnx::GraphProto proto;
  std::unordered_set<std::string> names;  // every value name handed out
  std::set<std::string> op_types;
  std::int64_t counter = 0;

  std::string unique(const std::string& base) {
    std::string name = base;
    while (!names.insert(name).second) name = base + "_" + std::to_string(++counter);
    return name;
  }
};

Graph::Graph() : impl_(std::make_unique<Impl>()) {}
Graph::~Graph() = default;

std::string Graph::add_node(const std::string& op_type, const std::vector<std::string>& inputs,
                            const std::vector<Attribute>& attributes, const std::string& path) {
  ::onnx::NodeProto* node = impl_->proto.add_node();
  const std::string where = path.empty() ? op_type : path + "/" + op_type;
  node->set_name(impl_->unique(where));
  node->set_op_type(op_type);
  for (const auto& in : inputs) node->add_input(in);
  const std::string out = impl_->unique(where + ":0");
  node->add_output(out);
  for (const auto& a : attributes) {
    ::onnx::AttributeProto* attr = node->add_attribute();
    attr->set_name(a.name);
    std::visit(
        [attr](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::int64_t>) {
            attr->set_type(::onnx::AttributeProto::INT);
            attr->set_i(v);
          } else if constexpr (std::is_same_v<T, float>) {
            attr->set_type(::onnx::AttributeProto::FLOAT);
            attr->set_f(v);
          } else {
            attr->set_type(::onnx::AttributeProto::INTS);
            for (std::int64_t i : v) attr->add_ints(i);
          }
        },
        a.value);
  }
  impl_->op_types.insert(op_type);
  return out;
}

std::string Graph::add_initializer(const std::string& name, const at::Tensor& tensor) {
  ::onnx::TensorProto* t = impl_->proto.add_initializer();
  const std::string used = impl_->unique(name);
  t->set_name(used);
  for (std::int64_t d : tensor.sizes()) t->add_dims(d);
  if (tensor.scalar_type() == at::kLong) {
    t->set_data_type(::onnx::TensorProto::INT64);
    const at::Tensor c = tensor.contiguous();
    const auto* p = c.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < c.numel(); ++i) t->add_int64_data(p[i]);
  } else {
    t->set_data_type(::onnx::TensorProto::FLOAT);
    const at::Tensor c = tensor.detach().to(at::kFloat).contiguous();
    const auto* p = c.data_ptr<float>();
    t->mutable_float_data()->Add(p, p + c.numel());
  }
  return used;
}

std::vector<std::string> Graph::op_types() const {
  return {impl_->op_types.begin(), impl_->op_types.end()};
}

void* Graph::proto() { return &impl_->proto; }

}  // namespace mlflow::onnx
