// SPDX-License-Identifier: Apache-2.0
// The page GET / answers: apps/fmnist_serve/page/index.html, a self-contained HTML file (inline CSS
// and JS, nothing fetched from elsewhere) compiled into the binary, so the server needs no files
// beside it. The build generates its definition (page/embed_page.cmake).
#pragma once

#include <string_view>

namespace mlflow::serve {

/// The bytes of page/index.html (UTF-8 HTML), valid for the life of the program.
std::string_view index_page();

}  // namespace mlflow::serve
