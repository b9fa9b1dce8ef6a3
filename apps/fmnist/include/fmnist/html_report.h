// SPDX-License-Identifier: Apache-2.0
// A self-contained HTML report: headings, paragraphs, tables and PNG figures embedded as data:
// URIs; LibTorch-free.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::fmnist {

/// A picture of the report, read from a PNG file and embedded.
struct HtmlFigure {
  std::string png_path;  ///< the file to embed; its name is the image's alt text and id
  std::string caption;
};

/// A table of text cells (escaped on output).
struct HtmlTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

/// A titled part of the report, drawn in this order: paragraphs, tables, figures.
struct HtmlSection {
  std::string heading;
  std::vector<std::string> paragraphs;  ///< plain text, escaped on output
  std::vector<HtmlTable> tables;
  std::vector<HtmlFigure> figures;
};

struct HtmlReport {
  std::string title;
  std::string subtitle;
  std::vector<HtmlSection> sections;
};

/// Standard base64 (RFC 4648, with padding) of `bytes`. Thread-safety: a pure function.
std::string base64_encode(std::string_view bytes);

/// `text` with & < > " ' replaced by character references. Thread-safety: a pure function.
std::string html_escape(std::string_view text);

/// The report as one HTML page that needs nothing else: inline CSS, every figure an <img> with a
/// data:image/png;base64 URI. kNotFound / kPermissionDenied naming a figure file that cannot be
/// read, kInvalidArgument naming one that is not a PNG. Thread-safety: a free function (reads the
/// figure files).
StatusOr<std::string> render_html_report(const HtmlReport& report);

}  // namespace mlflow::fmnist
