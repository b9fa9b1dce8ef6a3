// SPDX-License-Identifier: Apache-2.0
// Classification report: counts, sklearn scores (zero_division=0), JSON, PNG and text output.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "mlflow/training/classification_report.h"
#include "support/test_support.h"

namespace mlflow::training {
namespace {

// Three classes; "Ankle boot" is never predicted. Hand-computed:
//   counts = [[3,1,0],[0,2,0],[1,1,0]]
//   T-shirt/top P = 3/4, R = 3/4, F1 = 3/4;  Trouser P = 2/4, R = 2/2, F1 = 2/3;  Ankle boot all 0.
ClassificationReport example() {
  auto r = make_classification_report({0, 0, 1, 1, 1, 0, 1, 0}, {0, 0, 0, 1, 1, 2, 2, 0},
                                      {"T-shirt/top", "Trouser", "Ankle boot"});
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return *r;
}

TEST_CASE("classification report: exact counts indexed [true][predicted]") {
  const ClassificationReport r = example();
  const std::vector<std::vector<std::int64_t>> expected = {{3, 1, 0}, {0, 2, 0}, {1, 1, 0}};
  CHECK(r.counts == expected);
  CHECK(r.total == 8);
  CHECK(r.accuracy == doctest::Approx(5.0 / 8));
  CHECK(r.class_names == std::vector<std::string>{"T-shirt/top", "Trouser", "Ankle boot"});
}

TEST_CASE("classification report: precision, recall, F1 and support per class and macro averages") {
  const ClassificationReport r = example();
  REQUIRE(r.per_class.size() == 3);
  CHECK(r.per_class[0].name == "T-shirt/top");
  CHECK(r.per_class[0].key == "t_shirt_top");
  CHECK(r.per_class[0].precision == doctest::Approx(0.75));
  CHECK(r.per_class[0].recall == doctest::Approx(0.75));
  CHECK(r.per_class[0].f1 == doctest::Approx(0.75));
  CHECK(r.per_class[0].support == 4);
  CHECK(r.per_class[1].precision == doctest::Approx(0.5));
  CHECK(r.per_class[1].recall == doctest::Approx(1.0));
  CHECK(r.per_class[1].f1 == doctest::Approx(2.0 / 3));
  CHECK(r.per_class[1].support == 2);
  // Never predicted: precision 0 (zero_division=0), recall 0, F1 0.
  CHECK(r.per_class[2].key == "ankle_boot");
  CHECK(r.per_class[2].precision == 0.0);
  CHECK(r.per_class[2].recall == 0.0);
  CHECK(r.per_class[2].f1 == 0.0);
  CHECK(r.per_class[2].support == 2);
  CHECK(r.macro_precision == doctest::Approx((0.75 + 0.5) / 3));
  CHECK(r.macro_recall == doctest::Approx((0.75 + 1.0) / 3));
  CHECK(r.macro_f1 == doctest::Approx((0.75 + 2.0 / 3) / 3));
}

TEST_CASE("classification report: normalized rows sum to 1 and a class without samples stays 0") {
  const ClassificationReport r = example();
  const auto n = r.normalized();
  REQUIRE(n.size() == 3);
  CHECK(n[0][0] == doctest::Approx(0.75));
  CHECK(n[0][1] == doctest::Approx(0.25));
  CHECK(n[0][2] == 0.0);
  CHECK(n[1] == std::vector<double>{0.0, 1.0, 0.0});
  CHECK(n[2][0] == doctest::Approx(0.5));
  CHECK(n[2][1] == doctest::Approx(0.5));

  auto empty_row = make_classification_report({0, 0, 1}, {0, 0, 0}, {"a", "b"});
  REQUIRE(empty_row.ok());
  const auto m = empty_row->normalized();
  CHECK(m[0][0] == doctest::Approx(2.0 / 3));
  CHECK(m[0][1] == doctest::Approx(1.0 / 3));
  CHECK(m[1] == std::vector<double>{0.0, 0.0});
  CHECK(empty_row->per_class[1].recall == 0.0);
  CHECK(empty_row->per_class[1].precision == 0.0);
  CHECK(empty_row->per_class[1].support == 0);
}

TEST_CASE("classification report: perfect predictions score 1 everywhere") {
  auto r = make_classification_report({0, 1, 2, 1}, {0, 1, 2, 1}, {"a", "b", "c"});
  REQUIRE(r.ok());
  CHECK(r->accuracy == 1.0);
  CHECK(r->macro_f1 == doctest::Approx(1.0));
  for (const auto& c : r->per_class) CHECK(c.f1 == doctest::Approx(1.0));
}

TEST_CASE("classification report: invalid input is kInvalidArgument naming the problem") {
  const std::vector<std::string> names = {"a", "b"};
  auto sizes = make_classification_report({0, 1}, {0}, names);
  REQUIRE_FALSE(sizes.ok());
  CHECK(sizes.status().code() == StatusCode::kInvalidArgument);
  CHECK(sizes.status().message().find("2 predictions but 1 labels") != std::string::npos);

  auto high = make_classification_report({0, 2}, {0, 1}, names);
  REQUIRE_FALSE(high.ok());
  CHECK(high.status().code() == StatusCode::kInvalidArgument);
  CHECK(high.status().message().find("predictions[1] = 2") != std::string::npos);

  auto negative = make_classification_report({0, 1}, {-1, 1}, names);
  REQUIRE_FALSE(negative.ok());
  CHECK(negative.status().code() == StatusCode::kInvalidArgument);
  CHECK(negative.status().message().find("labels[0] = -1") != std::string::npos);

  auto no_classes = make_classification_report({}, {}, {});
  REQUIRE_FALSE(no_classes.ok());
  CHECK(no_classes.status().code() == StatusCode::kInvalidArgument);

  auto empty = make_classification_report({}, {}, names);
  REQUIRE(empty.ok());
  CHECK(empty->total == 0);
  CHECK(empty->accuracy == 0.0);
}

TEST_CASE("metric_safe_name: lower case, runs of other characters become one underscore, trimmed") {
  CHECK(metric_safe_name("T-shirt/top") == "t_shirt_top");
  CHECK(metric_safe_name("Ankle boot") == "ankle_boot");
  CHECK(metric_safe_name("Trouser") == "trouser");
  CHECK(metric_safe_name("  Bag!! ") == "bag");
  CHECK(metric_safe_name("a -- b__c") == "a_b_c");
  CHECK(metric_safe_name("Class 9") == "class_9");
  CHECK(metric_safe_name("//") == "class");
  CHECK(metric_safe_name("") == "class");
}

TEST_CASE("confusion_matrix_json: counts, normalized rows, per-class scores and totals") {
  const ClassificationReport r = example();
  const auto j = nlohmann::json::parse(confusion_matrix_json(r));
  CHECK(j.at("class_names") == nlohmann::json({"T-shirt/top", "Trouser", "Ankle boot"}));
  CHECK(j.at("counts") == nlohmann::json({{3, 1, 0}, {0, 2, 0}, {1, 1, 0}}));
  CHECK(j.at("normalized").at(0).at(1).get<double>() == doctest::Approx(0.25));
  CHECK(j.at("normalized").at(1).at(1).get<double>() == doctest::Approx(1.0));
  REQUIRE(j.at("per_class").size() == 3);
  const auto& trouser = j.at("per_class").at(1);
  CHECK(trouser.at("name") == "Trouser");
  CHECK(trouser.at("key") == "trouser");
  CHECK(trouser.at("precision").get<double>() == doctest::Approx(0.5));
  CHECK(trouser.at("recall").get<double>() == doctest::Approx(1.0));
  CHECK(trouser.at("f1").get<double>() == doctest::Approx(2.0 / 3));
  CHECK(trouser.at("support") == 2);
  CHECK(j.at("accuracy").get<double>() == doctest::Approx(0.625));
  CHECK(j.at("macro_f1").get<double>() == doctest::Approx(r.macro_f1));
  CHECK(j.at("macro_precision").get<double>() == doctest::Approx(r.macro_precision));
  CHECK(j.at("macro_recall").get<double>() == doctest::Approx(r.macro_recall));
  CHECK(j.at("total") == 8);
}

TEST_CASE("write_confusion_matrix_png: writes a PNG, and a missing directory is an error") {
  testing::TempDir dir;
  const std::string path = dir.path() + "/cm.png";
  const Status s = write_confusion_matrix_png(example(), path, "Confusion matrix (test)");
  REQUIRE_MESSAGE(s.ok(), s.to_string());
  const std::string bytes = testing::read_file(path);
  REQUIRE(bytes.size() > 8);
  CHECK(bytes.substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));

  const Status missing =
      write_confusion_matrix_png(example(), dir.path() + "/no/such/dir/cm.png", "t");
  CHECK_FALSE(missing.ok());
  CHECK(missing.message().find("no/such/dir") != std::string::npos);
}

TEST_CASE("format_classification_table: one aligned row per class plus accuracy and macro avg") {
  const std::string t = format_classification_table(example());
  CHECK(t ==
        "            precision    recall  f1-score   support\n"
        "\n"
        "T-shirt/top    0.7500    0.7500    0.7500         4\n"
        "Trouser        0.5000    1.0000    0.6667         2\n"
        "Ankle boot     0.0000    0.0000    0.0000         2\n"
        "\n"
        "accuracy                           0.6250         8\n"
        "macro avg      0.4167    0.5833    0.4722         8\n");
}

TEST_CASE("format_confusion_matrix: rows labelled by index and name, counts right-aligned") {
  const std::string t = format_confusion_matrix(example());
  CHECK(t ==
        "rows: true class, columns: predicted class\n"
        "               0  1  2\n"
        "0 T-shirt/top  3  1  0\n"
        "1 Trouser      0  2  0\n"
        "2 Ankle boot   1  1  0\n");
}

}  // namespace
}  // namespace mlflow::training
