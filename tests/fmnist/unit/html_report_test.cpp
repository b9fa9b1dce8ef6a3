// SPDX-License-Identifier: Apache-2.0
// Tests of the self-contained HTML report: base64, escaping, embedded figures, unreadable figures.
#include "fmnist/html_report.h"

#include <doctest/doctest.h>

#include "support/test_support.h"

namespace mlflow::fmnist {
namespace {

using testing::TempDir;
using testing::write_file;

const std::string kFakePng = std::string("\x89PNG\r\n\x1a\n", 8) + "rest";

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size()))
    ++n;
  return n;
}

TEST_CASE("html report: base64 of the RFC 4648 test vectors") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode(std::string("\0\xff", 2)) == "AP8=");
}

TEST_CASE("html report: text is escaped") {
  CHECK(html_escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
}

TEST_CASE("html report: every figure is embedded as a data URI with its file name, in order") {
  TempDir dir;
  write_file(dir.path() + "/one.png", kFakePng);
  write_file(dir.path() + "/two.png", kFakePng + "2");
  HtmlReport report{"Title <1>", "sub", {}};
  const HtmlTable table{{"k", "v"}, {{"a", "<b>"}}};
  report.sections.push_back(
      {"First", {"para & more"}, {table}, {{dir.path() + "/one.png", "cap one"}}});
  report.sections.push_back({"Second", {}, {}, {{dir.path() + "/two.png", ""}}});
  auto html = render_html_report(report);
  REQUIRE_MESSAGE(html.ok(), html.status().to_string());
  CHECK(html->rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html->find("<title>Title &lt;1&gt;</title>") != std::string::npos);
  CHECK(html->find("<p>para &amp; more</p>") != std::string::npos);
  CHECK(html->find("<td>&lt;b&gt;</td>") != std::string::npos);
  CHECK(count(*html, "src=\"data:image/png;base64,") == 2);
  CHECK(html->find("src=\"data:image/png;base64," + base64_encode(kFakePng) + "\"") !=
        std::string::npos);
  CHECK(html->find("alt=\"one.png\"") < html->find("alt=\"two.png\""));
  CHECK(html->find("<figcaption>cap one</figcaption>") != std::string::npos);
  CHECK(count(*html, "<figcaption>") == 1);
  CHECK(html->find(dir.path()) ==
        std::string::npos);  // self-contained: no reference to the local files
}

TEST_CASE("html report: a missing or non-PNG figure is named") {
  TempDir dir;
  HtmlReport report{"t", "", {{"s", {}, {}, {{dir.path() + "/missing.png", ""}}}}};
  auto missing = render_html_report(report);
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message() ==
        "report figure " + dir.path() + "/missing.png does not exist");
  write_file(dir.path() + "/missing.png", "GIF89a");
  auto not_png = render_html_report(report);
  CHECK(not_png.status().code() == StatusCode::kInvalidArgument);
  CHECK(not_png.status().message() ==
        "report figure " + dir.path() + "/missing.png is not a PNG file");
}

}  // namespace
}  // namespace mlflow::fmnist
