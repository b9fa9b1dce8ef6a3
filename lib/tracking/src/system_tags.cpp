// SPDX-License-Identifier: Apache-2.0
// System tags: user, source and git commit, shared by every way this toolkit creates runs.
#include "mlflow/system_tags.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace mlflow {

namespace fs = std::filesystem;

std::string current_user(const ClientOptions::EnvLookup& env_in) {
  const ClientOptions::EnvLookup env = env_in ? env_in : ClientOptions::EnvLookup(process_env);
  for (const char* name : {"LOGNAME", "USER", "LNAME", "USERNAME"}) {
    if (auto u = env(name); u && !u->empty()) return *u;
  }
  // getpwuid_r: other threads may be reading the password database too.
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<std::size_t>(size) : 16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(::getuid(), &entry, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr && *found->pw_name != '\0') {
    return found->pw_name;
  }
  return "unknown";
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "unknown-host";
  return buf;
}

std::string executable_path() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

namespace {

std::string first_line(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

bool is_sha(const std::string& s) {
  return s.size() == 40 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Resolves "ref: refs/heads/x" through loose refs, then packed-refs.
std::string resolve_ref(const fs::path& git_dir, const fs::path& common_dir,
                        const std::string& ref) {
  for (const auto& base : {git_dir, common_dir}) {
    std::string v = first_line(base / ref);
    if (is_sha(v)) return v;
  }
  std::ifstream packed(common_dir / "packed-refs");
  std::string line;
  while (std::getline(packed, line)) {
    if (line.size() > 41 && line.compare(41, std::string::npos, ref) == 0 &&
        is_sha(line.substr(0, 40))) {
      return line.substr(0, 40);
    }
  }
  return {};
}

}  // namespace

std::string git_commit(const std::string& dir) {
  std::error_code ec;
  fs::path p = fs::absolute(dir.empty() ? fs::current_path(ec) : fs::path(dir), ec);
  for (; !p.empty(); p = p.parent_path()) {
    fs::path dot_git = p / ".git";
    fs::path git_dir;
    if (fs::is_directory(dot_git, ec)) {
      git_dir = dot_git;
    } else if (fs::is_regular_file(dot_git, ec)) {  // worktree or submodule: "gitdir: <path>"
      std::string l = first_line(dot_git);
      if (l.rfind("gitdir: ", 0) != 0) return {};
      git_dir = fs::path(l.substr(8));
      if (git_dir.is_relative()) git_dir = p / git_dir;
    }
    if (!git_dir.empty()) {
      fs::path common = git_dir;
      if (std::string c = first_line(git_dir / "commondir"); !c.empty()) {
        common = fs::path(c).is_relative() ? git_dir / c : fs::path(c);
      }
      std::string head = first_line(git_dir / "HEAD");
      if (is_sha(head)) return head;
      if (head.rfind("ref: ", 0) == 0) return resolve_ref(git_dir, common, head.substr(5));
      return {};
    }
    if (p == p.root_path()) break;
  }
  return {};
}

Tags system_tags(const std::string& source_name, const Tags& extra) {
  std::string source = source_name.empty() ? executable_path() : source_name;
  Tags tags = {{"mlflow.user", current_user()},
               {"mlflow.source.name", source},
               {"mlflow.source.type", "LOCAL"}};
  // Python looks next to the entry-point script; a name such as "sweep_runner" has no directory,
  // and an installed executable no checkout, so the working directory's checkout comes next.
  const fs::path source_dir = fs::path(source).parent_path();
  std::string commit = source_dir.empty() ? std::string() : git_commit(source_dir.string());
  if (commit.empty()) commit = git_commit({});
  if (!commit.empty()) tags.push_back({"mlflow.source.git.commit", commit});
  for (const auto& t : extra) {
    auto same =
        std::find_if(tags.begin(), tags.end(), [&](const KeyValue& kv) { return kv.key == t.key; });
    if (same == tags.end()) {
      tags.push_back(t);
    } else {
      same->value = t.value;
    }
  }
  return tags;
}

}  // namespace mlflow
