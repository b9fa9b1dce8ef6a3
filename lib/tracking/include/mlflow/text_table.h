// SPDX-License-Identifier: Apache-2.0
// Plain-text tables for terminal output (training summaries, sweep results, mlflowctl).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace mlflow {

/// Display width of UTF-8 text in a terminal, counted in code points (accented names line up).
std::size_t display_width(const std::string& s);

/// A fixed-width table: the header, a line of dashes, then the rows; columns are separated by two
/// spaces and padded to their widest cell (width in code points, so UTF-8 names line up). A column
/// whose cells (below the header) are all numbers is right-aligned, others left-aligned. Rows may
/// have fewer cells than the header. No trailing spaces; every line ends with a newline.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

}  // namespace mlflow
