// SPDX-License-Identifier: Apache-2.0
// Runs the built fmnist_score against the test server with a model the test trains and registers:
// the test set's IDX file and the same images re-encoded as uploads (fmnist_variants.h) score
// within 2 points of each other, the run records the job, bad input is refused by name.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "fmnist/fmnist_data.h"
#include "fmnist_variants.h"
#include "mlflow/libtorch/idx_reader.h"
#include "support/process.h"
#include "support/test_support.h"

namespace {

using mlflow::testing::ProcessResult;
using mlflow::testing::run_process;
using mlflow::testing::server_env;
using mlflow::testing::TempDir;
using mlflow::testing::test_client;
using mlflow::testing::unique_name;
using mlflow::testing::write_file;
namespace variants = mlflow::serve::testing;

// Transformed images written: 300 per variant but the plain one, 1500 in all.
constexpr std::int64_t kPerVariant = 300;

ProcessResult score(const std::vector<std::string>& args) {
  return run_process(FMNIST_SCORE_PATH, args, server_env());
}

std::string test_file(const std::string& name) {
  const char* env = std::getenv(mlflow::fmnist::kFmnistDirEnv);
  return std::string(env != nullptr && *env != '\0' ? env : mlflow::fmnist::kFmnistDefaultDir) +
         "/" + name;
}

// "accuracy 84.12% on ..." in fmnist_score's output, as a fraction.
double printed_accuracy(const std::string& out) {
  auto at = out.find("accuracy ");
  REQUIRE(at != std::string::npos);
  return std::stod(out.substr(at + 9)) / 100;
}

// Accuracy over the first `n` rows of a predictions CSV (columns file,label,predicted_class,...).
double accuracy_of_first(const std::string& csv, std::int64_t n) {
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);  // header
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < n && std::getline(lines, line); ++i) {
    std::istringstream fields(line);
    std::string file, label, predicted;
    std::getline(fields, file, ',');
    std::getline(fields, label, ',');
    std::getline(fields, predicted, ',');
    correct += label == predicted ? 1 : 0;
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

std::string run_id_of(const std::string& out) {
  auto at = out.find("scoring run ");
  REQUIRE(at != std::string::npos);
  return out.substr(at + 12, 32);
}

// A SmallCNN trained for one epoch on 6000 images, registered as NAME version 1 with alias
// "champion".
std::string train_and_register() {
  static const std::string name = [] {
    std::string model = unique_name("fmnist-score");
    auto t = run_process(
        FMNIST_TRAIN_PATH,
        {"--experiment", unique_name("fmnist-score-train"), "--train_limit", "6000", "--max_epochs",
         "1", "--threads", "2", "--register", model, "--alias", "champion", "--quiet"},
        server_env());
    INFO(t.err);
    REQUIRE(t.exit_code == 0);
    return model;
  }();
  return name;
}

// An unreadable image among good ones is skipped and listed; a directory of nothing but unreadable
// ones fails with no CSV.
void check_unreadable_images(const std::string& model, const std::uint8_t* test_images) {
  TempDir dir;
  const std::string uploads = dir.path() + "/uploads";
  std::filesystem::create_directory(uploads);
  for (int i = 0; i < 3; ++i) {
    write_file(uploads + "/good" + std::to_string(i) + ".png",
               variants::encode_variant(test_images + i * 784, variants::Variant::kGrey100));
  }
  write_file(uploads + "/broken.jpg", "<html>not an image</html>");
  write_file(uploads + "/notes.txt", "ignored: not an image extension");
  auto r = score({model, uploads, "-o", dir.path() + "/out.csv", "--no-log"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("warning: skipped " + uploads + "/broken.jpg: not a PNG or JPEG image") !=
        std::string::npos);
  const std::string csv = mlflow::testing::read_file(dir.path() + "/out.csv");
  CHECK(csv.find("broken.jpg,,,,,,,,,,,,,,,") != std::string::npos);
  CHECK(csv.find("not a PNG or JPEG image") != std::string::npos);
  CHECK(csv.find("good2.png") != std::string::npos);
  CHECK(csv.find("notes.txt") == std::string::npos);

  const std::string all_bad_dir = dir.path() + "/all-bad";
  std::filesystem::create_directory(all_bad_dir);
  write_file(all_bad_dir + "/a.png", "");
  auto all_bad = score({model, all_bad_dir, "-o", dir.path() + "/bad.csv", "--no-log"});
  CHECK(all_bad.exit_code == 1);
  CHECK(all_bad.err.find("none of the 1 images could be read") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/bad.csv"));
}

}  // namespace

TEST_CASE("fmnist_score: --help names the inputs, the CSV and the exit codes") {
  auto r = score({"--help"});
  CHECK(r.exit_code == 0);
  for (const char* key :
       {"--output", "--labels", "--batch-size", "--no-log", "IDX", "Exit codes"}) {
    CHECK_MESSAGE(r.out.find(key) != std::string::npos, key);
  }
}

// One test trains (a process trains once; two tests training at once on 2 cores passed 300 s).
TEST_CASE(
    "fmnist_score: transformed test images score within 2 points, unreadable ones are listed") {
  const std::string model = "models:/" + train_and_register() + "@champion";
  const std::string experiment = unique_name("fmnist-score");
  TempDir dir;

  // The raw test set: 10 000 IDX images with their sibling labels file.
  auto raw = score({model, test_file("t10k-images-idx3-ubyte.gz"), "-o", dir.path() + "/raw.csv",
                    "--threads", "2", "--experiment", experiment});
  INFO(raw.err);
  REQUIRE(raw.exit_code == 0);
  const double raw_accuracy = printed_accuracy(raw.out);
  MESSAGE("raw test set: " << raw.out);

  // The first test images re-encoded, each variant on its own images, with a labels CSV.
  auto images = mlflow::libtorch::read_idx_images(test_file("t10k-images-idx3-ubyte.gz"), 28, 28);
  auto labels = mlflow::libtorch::read_idx_labels(test_file("t10k-labels-idx1-ubyte.gz"), 10);
  REQUIRE(images.ok());
  REQUIRE(labels.ok());
  const std::string upload_dir = dir.path() + "/uploads";
  std::filesystem::create_directory(upload_dir);
  std::string labels_csv = "file,label\n";
  std::int64_t index = 0;
  for (variants::Variant v : variants::kAllVariants) {
    if (v == variants::Variant::kPng28) continue;
    for (std::int64_t i = 0; i < kPerVariant; ++i, ++index) {
      const std::string name =
          variants::variant_name(v) + "_" + std::to_string(index) + variants::variant_extension(v);
      write_file(upload_dir + "/" + name,
                 variants::encode_variant(images->pixels.data() + index * 784, v));
      labels_csv += name + "," + std::to_string((*labels)[static_cast<std::size_t>(index)]) + "\n";
    }
  }
  write_file(dir.path() + "/labels.csv", labels_csv);
  auto transformed =
      score({model, upload_dir, "-o", dir.path() + "/uploads.csv", "--labels",
             dir.path() + "/labels.csv", "--threads", "2", "--experiment", experiment});
  INFO(transformed.err);
  REQUIRE(transformed.exit_code == 0);
  MESSAGE("transformed uploads: " << transformed.out);
  const double transformed_accuracy = printed_accuracy(transformed.out);
  // The requirement, on the whole test set and on exactly these images raw.
  const double raw_same =
      accuracy_of_first(mlflow::testing::read_file(dir.path() + "/raw.csv"), index);
  MESSAGE("accuracy: raw test set " << raw_accuracy << ", the same " << index << " images raw "
                                    << raw_same << ", transformed " << transformed_accuracy);
  CHECK(transformed_accuracy > raw_accuracy - 0.02);
  CHECK(transformed_accuracy > raw_same - 0.02);

  // The run: model, inputs' digest, counts, throughput, accuracy, the CSV.
  auto run = test_client().get_run(run_id_of(transformed.out));
  REQUIRE(run.ok());
  std::map<std::string, std::string> params;
  for (const auto& p : run->data.params) params[p.key] = p.value;
  CHECK(params["model_uri"] == model);
  CHECK(params["model_version"] == "1");
  CHECK(params["input_kind"] == "images");
  CHECK(params["images"] == std::to_string(index));
  CHECK(params["inputs_sha256"].size() == 64);
  std::map<std::string, double> metrics;
  for (const auto& m : run->data.metrics) metrics[m.key] = m.value;
  CHECK(metrics["images_per_second"] > 0);
  CHECK(metrics["seconds"] > 0);
  CHECK(metrics["failed_images"] == 0);
  CHECK(metrics["accuracy"] == doctest::Approx(transformed_accuracy).epsilon(1e-3));
  auto artifacts = test_client().list_artifacts(run->info.run_id);
  REQUIRE(artifacts.ok());
  bool has_csv = false;
  for (const auto& f : *artifacts) has_csv = has_csv || f.path == "uploads.csv";
  CHECK(has_csv);

  // The CSV: a header and one row per image with 10 probabilities.
  std::istringstream csv(mlflow::testing::read_file(dir.path() + "/uploads.csv"));
  std::string line;
  std::getline(csv, line);
  CHECK(line.rfind("file,label,predicted_class,class_name,top_probability,p_0,", 0) == 0);
  std::int64_t rows = 0;
  while (std::getline(csv, line)) ++rows;
  CHECK(rows == index);

  check_unreadable_images(model, images->pixels.data());
}

TEST_CASE("fmnist_score: a missing input or a model URI that does not resolve exits 2 by name") {
  TempDir dir;
  const std::string uploads = dir.path() + "/uploads";
  std::filesystem::create_directory(uploads);
  write_file(uploads + "/a.png", "");
  // No CSV at all after either (not an empty or half-written one).
  const std::string out = dir.path() + "/bad.csv";
  const std::string unknown = "models:/" + unique_name("no-such-model") + "@champion";
  auto missing = score({unknown, dir.path() + "/no-such-dir", "-o", out, "--no-log"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("no-such-dir: no such file or directory") != std::string::npos);
  auto unresolved = score({unknown, uploads, "-o", out, "--no-log"});
  CHECK(unresolved.exit_code == 2);
  CHECK(unresolved.err.find(unknown) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(out));
}
