// SPDX-License-Identifier: Apache-2.0
#include "serve_metrics.h"

#include <sstream>
#include <string>

#include <prometheus/text_serializer.h>

namespace mlflow::serve {
namespace {

// Latency buckets around the 50 ms goal, in seconds.
const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5};
const prometheus::Histogram::BucketBoundaries kBatchBuckets = {1, 2, 4, 8, 16, 32, 64, 128, 256};

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

ServeMetrics::ServeMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("fmnist_serve_requests_total")
                    .Help("Requests answered, by route and HTTP status")
                    .Register(*registry_)),
      latency_(prometheus::BuildHistogram()
                   .Name("fmnist_serve_request_seconds")
                   .Help("Time from a request's arrival to its answer, by route")
                   .Register(*registry_)),
      batch_size_(prometheus::BuildHistogram()
                      .Name("fmnist_serve_batch_images")
                      .Help("Images per forward pass")
                      .Register(*registry_)
                      .Add({}, kBatchBuckets)),
      inference_seconds_(prometheus::BuildHistogram()
                             .Name("fmnist_serve_inference_seconds")
                             .Help("Duration of one forward pass")
                             .Register(*registry_)
                             .Add({}, kLatencyBuckets)),
      queued_(prometheus::BuildGauge()
                  .Name("fmnist_serve_queued_images")
                  .Help("Images waiting for a forward pass")
                  .Register(*registry_)
                  .Add({})),
      model_info_(prometheus::BuildGauge()
                      .Name("fmnist_serve_model_info")
                      .Help("The model being served (1), by name, version and alias")
                      .Register(*registry_)),
      model_version_(prometheus::BuildGauge()
                         .Name("fmnist_serve_model_version")
                         .Help("Registry version of the model being served (0: not registered)")
                         .Register(*registry_)
                         .Add({})),
      reloads_(prometheus::BuildCounter()
                   .Name("fmnist_serve_reloads_total")
                   .Help("Attempts to load a new model version, by result (ok, failed)")
                   .Register(*registry_)),
      drift_(prometheus::BuildGauge()
                 .Name("fmnist_serve_drift")
                 .Help("The last drift window's statistics against the training-time reference")
                 .Register(*registry_)) {
  // Both results exist from the start, so a dashboard sees 0 rather than nothing.
  reloads_.Add({{"result", "ok"}});
  reloads_.Add({{"result", "failed"}});
}

void ServeMetrics::record_request(const std::string& route, int status,
                                  std::chrono::nanoseconds latency) {
  requests_.Add({{"route", route}, {"code", std::to_string(status)}}).Increment();
  latency_.Add({{"route", route}}, kLatencyBuckets).Observe(seconds(latency));
}

void ServeMetrics::record_batch(std::int64_t images, std::chrono::nanoseconds took) {
  batch_size_.Observe(static_cast<double>(images));
  inference_seconds_.Observe(seconds(took));
}

void ServeMetrics::set_queued(std::int64_t images) { queued_.Set(static_cast<double>(images)); }

void ServeMetrics::set_model(const ModelInfo& info) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (model_info_now_ != nullptr) model_info_.Remove(model_info_now_);
  model_info_now_ =
      &model_info_.Add({{"name", info.name}, {"version", info.version}, {"alias", info.alias}});
  model_info_now_->Set(1);
  double version = 0;
  try {
    version = info.version.empty() ? 0 : std::stod(info.version);
  } catch (const std::exception&) {
    version = 0;  // not a registry version number
  }
  model_version_.Set(version);
}

void ServeMetrics::record_reload(bool ok) {
  reloads_.Add({{"result", ok ? "ok" : "failed"}}).Increment();
}

void ServeMetrics::set_drift(const std::map<std::string, double>& values) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, value] : values) drift_.Add({{"statistic", name}}).Set(value);
}

std::string ServeMetrics::text() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace mlflow::serve
