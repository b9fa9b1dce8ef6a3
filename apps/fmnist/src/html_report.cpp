// SPDX-License-Identifier: Apache-2.0
// Renders HtmlReport as one self-contained page (pictures as base64 data URIs).
#include "fmnist/html_report.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base64.h"

namespace mlflow::fmnist {
namespace {

constexpr std::string_view kPngSignature = "\x89PNG\r\n\x1a\n";

constexpr const char* kStyle =
    "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 "
    "1em;color:#222}"
    "h1{margin-bottom:0}.subtitle{color:#666;margin-top:.3em}h2{border-bottom:1px solid "
    "#ddd;padding-bottom:.2em}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em "
    ".7em;text-align:left}"
    "th{background:#f3f3f3}figure{margin:1.5em 0}img{max-width:100%;border:1px solid #eee}"
    "figcaption{color:#555;font-size:.9em}";

StatusOr<std::string> read_png(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status(StatusCode::kNotFound, "report figure " + path + " does not exist");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(StatusCode::kPermissionDenied, "cannot read report figure " + path);
  std::ostringstream bytes;
  bytes << in.rdbuf();  // an empty file sets failbit here; the signature check below names it
  std::string png = bytes.str();
  if (png.compare(0, kPngSignature.size(), kPngSignature) != 0) {
    return Status(StatusCode::kInvalidArgument, "report figure " + path + " is not a PNG file");
  }
  return png;
}

void render_table(std::string& out, const HtmlTable& table) {
  out += "<table>\n";
  if (!table.header.empty()) {
    out += "<tr>";
    for (const auto& h : table.header) out += "<th>" + html_escape(h) + "</th>";
    out += "</tr>\n";
  }
  for (const auto& row : table.rows) {
    out += "<tr>";
    for (const auto& cell : row) out += "<td>" + html_escape(cell) + "</td>";
    out += "</tr>\n";
  }
  out += "</table>\n";
}

}  // namespace

std::string base64_encode(std::string_view bytes) { return mlflow::detail::base64_encode(bytes); }

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

StatusOr<std::string> render_html_report(const HtmlReport& report) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
      html_escape(report.title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  out += "<h1>" + html_escape(report.title) + "</h1>\n";
  if (!report.subtitle.empty())
    out += "<p class=\"subtitle\">" + html_escape(report.subtitle) + "</p>\n";
  for (const HtmlSection& section : report.sections) {
    out += "<section>\n<h2>" + html_escape(section.heading) + "</h2>\n";
    for (const auto& p : section.paragraphs) out += "<p>" + html_escape(p) + "</p>\n";
    for (const auto& t : section.tables) render_table(out, t);
    for (const HtmlFigure& f : section.figures) {
      auto png = read_png(f.png_path);
      if (!png.ok()) return png.status();
      const std::string name = html_escape(std::filesystem::path(f.png_path).filename().string());
      out += "<figure id=\"" + name + "\">\n<img alt=\"" + name +
             "\" src=\"data:image/png;base64," + base64_encode(*png) + "\">\n";
      if (!f.caption.empty()) out += "<figcaption>" + html_escape(f.caption) + "</figcaption>\n";
      out += "</figure>\n";
    }
    out += "</section>\n";
  }
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace mlflow::fmnist
