// SPDX-License-Identifier: Apache-2.0
// The page compiled into fmnist_serve (core/page.h) is page/index.html byte for byte, and it
// fetches nothing from another origin (it must work offline). The page's behaviour is tested in a
// browser by page_test.py.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "page.h"
#include "support/test_support.h"

TEST_CASE("index_page: the embedded page is page/index.html, byte for byte") {
  const std::string file =
      mlflow::testing::read_file(MLFLOW_CPP_SOURCE_DIR "/apps/fmnist_serve/page/index.html");
  const std::string_view page = mlflow::serve::index_page();
  REQUIRE(!file.empty());
  CHECK(page.size() == file.size());
  CHECK(page == file);
  CHECK(page.substr(0, 15) == "<!DOCTYPE html>");
}

TEST_CASE("index_page: no address of another origin (the page works offline)") {
  // The one "://" allowed is the SVG namespace of the inline icon, which is a name, not a fetch.
  const std::string_view page = mlflow::serve::index_page();
  constexpr std::string_view kSvgNamespace = "http://www.w3.org/2000/svg";
  int namespaces = 0;
  for (auto at = page.find("://"); at != std::string_view::npos; at = page.find("://", at + 3)) {
    const auto start = page.rfind("http", at);
    INFO("at byte " << at << ": " << page.substr(start, 40));
    REQUIRE(start != std::string_view::npos);
    CHECK(page.substr(start, kSvgNamespace.size()) == kSvgNamespace);
    ++namespaces;
  }
  CHECK(namespaces == 1);
}
