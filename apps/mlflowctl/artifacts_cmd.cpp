// SPDX-License-Identifier: Apache-2.0
// `mlflowctl artifacts ...`: upload a file or tree to a run, list a run's artifacts, download them.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "commands.h"
#include "json_view.h"
#include "output.h"

namespace mlflowctl {

namespace {

namespace fs = std::filesystem;

/// Where an artifact lands, for messages: "runs:/<run>/<path>".
std::string run_uri(const std::string& run_id, const std::string& path) {
  return path.empty() ? "runs:/" + run_id : "runs:/" + run_id + "/" + path;
}

// ---- artifacts upload -----------------------------------------------------------------------

struct UploadArgs {
  std::string run_id;
  std::string local_path;
  std::string artifact_path;
};

/// Regular files under `dir` (what log_artifacts uploads).
std::size_t count_files(const fs::path& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) ++n;
  }
  if (ec)
    usage_error(fmt::format("cannot read local directory '{}': {}", dir.string(), ec.message()));
  return n;
}

void run_upload(Context& ctx, const UploadArgs& a) {
  require_nonempty(a.run_id, "RUN_ID");
  require_artifact_path(a.artifact_path);
  std::error_code ec;
  fs::file_status st = fs::status(a.local_path, ec);
  if (!fs::exists(st)) usage_error(fmt::format("local path '{}' does not exist", a.local_path));
  bool is_dir = fs::is_directory(st);
  if (!is_dir && !fs::is_regular_file(st)) {
    usage_error(fmt::format("local path '{}' is neither a file nor a directory", a.local_path));
  }
  std::size_t files = is_dir ? count_files(a.local_path) : 1;
  auto& client = ctx.client();
  std::string what =
      fmt::format("upload '{}' to {}", a.local_path, run_uri(a.run_id, a.artifact_path));
  if (is_dir) {
    check(client.log_artifacts(a.run_id, a.local_path, a.artifact_path), what);
  } else {
    check(client.log_artifact(a.run_id, a.local_path, a.artifact_path), what);
  }
  if (ctx.global.json) {
    print_json({{"run_id", a.run_id},
                {"local_path", a.local_path},
                {"artifact_path", a.artifact_path},
                {"files", files}});
  } else {
    fmt::print("Uploaded {} file{} from '{}' to {}\n", files, files == 1 ? "" : "s", a.local_path,
               run_uri(a.run_id, a.artifact_path));
  }
}

// ---- artifacts list -------------------------------------------------------------------------

struct ListArgs {
  std::string run_id;
  std::string path;
  bool recursive = false;
};

void run_list(Context& ctx, const ListArgs& a) {
  require_nonempty(a.run_id, "RUN_ID");
  require_artifact_path(a.path);
  auto& client = ctx.client();
  std::vector<mlflow::FileInfo> entries;
  std::deque<std::string> pending{a.path};
  while (!pending.empty()) {
    std::string dir = pending.front();
    pending.pop_front();
    auto listed = unwrap(client.list_artifacts(a.run_id, dir),
                         fmt::format("list artifacts at {}", run_uri(a.run_id, dir)));
    for (auto& f : listed) {
      // Paths are relative to the run's artifact root, so a directory can be listed as is.
      if (a.recursive && f.is_dir) pending.push_back(f.path);
      entries.push_back(std::move(f));
    }
  }
  if (ctx.global.json) {
    print_json(to_json_array(entries));
    return;
  }
  Table table({"PATH", "SIZE"});
  for (const auto& f : entries) {
    table.add_row({f.is_dir ? f.path + "/" : f.path, f.is_dir ? "" : std::to_string(f.file_size)});
  }
  table.print();
}

// ---- artifacts download ---------------------------------------------------------------------

struct DownloadArgs {
  std::string run_id;
  std::string path;
  std::string dest;
};

void run_download(Context& ctx, const DownloadArgs& a) {
  require_nonempty(a.run_id, "RUN_ID");
  require_artifact_path(a.path);
  require_nonempty(a.dest, "--dest");
  std::error_code ec;
  if (fs::exists(a.dest, ec) && !fs::is_directory(a.dest, ec)) {
    usage_error(fmt::format("destination '{}' exists and is not a directory", a.dest));
  }
  bool created = fs::create_directories(a.dest, ec);
  if (ec)
    usage_error(fmt::format("cannot create destination directory '{}': {}", a.dest, ec.message()));
  auto downloaded = ctx.client().download_artifacts(a.run_id, a.path, a.dest);
  if (!downloaded.ok() && created) fs::remove(a.dest, ec);  // only if still empty; leaves no litter
  std::string local = unwrap(std::move(downloaded),
                             fmt::format("download {} to '{}'", run_uri(a.run_id, a.path), a.dest));
  if (ctx.global.json) {
    print_json({{"run_id", a.run_id}, {"path", a.path}, {"local_path", local}});
  } else {
    fmt::print("Downloaded {} to {}\n", run_uri(a.run_id, a.path), local);
  }
}

}  // namespace

void add_artifacts_commands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("artifacts", "Upload, list and download a run's artifacts");
  group->require_subcommand(1);

  auto up = std::make_shared<UploadArgs>();
  CLI::App* u = group->add_subcommand("upload", "Upload a local file or directory tree to a run");
  u->add_option("RUN_ID", up->run_id, "Run id")->required();
  u->add_option("LOCAL_PATH", up->local_path, "File or directory to upload")->required();
  u->add_option("--artifact-path", up->artifact_path,
                "Relative directory under the run's artifact root (default: the root)");
  on_selected(*u, ctx, [&ctx, up] { run_upload(ctx, *up); });

  auto ls = std::make_shared<ListArgs>();
  CLI::App* l =
      group->add_subcommand("list", "List a run's artifacts under PATH (default: the root)");
  l->alias("ls");
  l->add_option("RUN_ID", ls->run_id, "Run id")->required();
  l->add_option("PATH", ls->path, "Artifact directory to list");
  l->add_flag("-r,--recursive", ls->recursive, "Descend into directories");
  on_selected(*l, ctx, [&ctx, ls] { run_list(ctx, *ls); });

  auto down = std::make_shared<DownloadArgs>();
  CLI::App* d = group->add_subcommand("download", "Download an artifact file or directory");
  d->add_option("RUN_ID", down->run_id, "Run id")->required();
  d->add_option("PATH", down->path, "Artifact file or directory (default: everything)");
  d->add_option("--dest", down->dest, "Local directory to download into (created if missing)")
      ->required();
  on_selected(*d, ctx, [&ctx, down] { run_download(ctx, *down); });
}

}  // namespace mlflowctl
