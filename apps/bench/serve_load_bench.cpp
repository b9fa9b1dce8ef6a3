// SPDX-License-Identifier: Apache-2.0
// bench_serve_load: an open-loop HTTP load generator for the model servers' latency figures.
// Arrival times are fixed before the run (constant or Poisson) and do not wait for responses;
// latency runs from a request's SCHEDULED time, so a server that falls behind shows it (no
// coordinated omission). At most --connections requests are in flight: one due when all are busy
// is counted as dropped, never sent late. libcurl's multi interface drives the connections.
#include <curl/curl.h>
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Settings {
  std::string url;
  std::string body_file;
  std::string content_type = "application/json";
  std::vector<double> rates;
  double duration_s = 10;
  double warmup_s = 1;
  std::string arrivals = "constant";
  int connections = 64;
  int timeout_ms = 5000;
  double slo_ms = 50;
  double pause_s = 1;
  bool keep_going = false;
  unsigned seed = 42;
  std::string out;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_serve_load: error: %s\n", what.c_str());
  std::exit(2);
}

// Loopback only: this tool sends as fast as it is told to, so it must not be pointed at anyone.
void require_loopback(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    die("--url: cannot parse '" + url + "'");
  }
  char* scheme = nullptr;
  char* host = nullptr;
  curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(u.get(), CURLUPART_HOST, &host, 0);
  const std::string s = scheme != nullptr ? scheme : "";
  const std::string h = host != nullptr ? host : "";
  curl_free(scheme);
  curl_free(host);
  if (s != "http") die("--url: only http:// is supported, got '" + url + "'");
  if (h != "localhost" && h != "[::1]" && h.rfind("127.", 0) != 0) {
    die("--url: host '" + h + "' is not loopback (127.0.0.0/8, ::1, localhost)");
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("--body: cannot read '" + path + "'");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Send offsets from the start, in seconds: every request of the run, decided before it starts.
std::vector<double> schedule(const Settings& s, double rate) {
  std::vector<double> t;
  const double total = s.warmup_s + s.duration_s;
  std::mt19937_64 rng(s.seed);
  std::exponential_distribution<double> gap(rate);
  for (double at = 0; at < total;) {
    t.push_back(at);
    at = s.arrivals == "poisson" ? at + gap(rng) : static_cast<double>(t.size()) / rate;
  }
  return t;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(sorted.size() - 1, k)];
}

std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

struct Slot {
  CURL* easy = nullptr;
  std::size_t request = 0;  // index into the schedule
};

nlohmann::json run_rate(const Settings& s, const std::string& body, double rate) {
  const std::vector<double> when = schedule(s, rate);
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(s.connections));
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(s.connections));
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Content-Type: " + s.content_type).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip for large bodies
  std::vector<Slot> slots(static_cast<std::size_t>(s.connections));
  std::vector<Slot*> idle;
  for (Slot& slot : slots) {
    slot.easy = curl_easy_init();
    curl_easy_setopt(slot.easy, CURLOPT_URL, s.url.c_str());
    curl_easy_setopt(slot.easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(slot.easy, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(slot.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(slot.easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(slot.easy, CURLOPT_TIMEOUT_MS, static_cast<long>(s.timeout_ms));
    curl_easy_setopt(slot.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(slot.easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(slot.easy, CURLOPT_PRIVATE, &slot);
    idle.push_back(&slot);
  }

  std::vector<double> latencies_ms;
  std::map<std::string, long> errors;
  long dropped = 0;
  long completed = 0;
  long sent = 0;
  std::size_t next = 0;
  const auto start = Clock::now();
  auto last_done = start;
  const auto seconds_since = [&](Clock::time_point t) {
    return std::chrono::duration<double>(t - start).count();
  };
  int running = 0;
  while (next < when.size() || idle.size() < slots.size()) {
    const double now = seconds_since(Clock::now());
    for (; next < when.size() && when[next] <= now; ++next) {
      // Warm-up requests are sent when a connection is free and never counted.
      const bool measured = when[next] >= s.warmup_s;
      if (idle.empty()) {
        if (measured) ++dropped;
        continue;
      }
      if (measured) ++sent;
      Slot* slot = idle.back();
      idle.pop_back();
      slot->request = next;
      curl_multi_add_handle(multi, slot->easy);
    }
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      const auto done = Clock::now();
      Slot* slot = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &slot);
      const CURLcode result = msg->data.result;
      curl_multi_remove_handle(multi, msg->easy_handle);
      idle.push_back(slot);
      const double scheduled = when[slot->request];
      if (scheduled < s.warmup_s) continue;
      last_done = done;
      long status = 0;
      curl_easy_getinfo(slot->easy, CURLINFO_RESPONSE_CODE, &status);
      if (result != CURLE_OK) {
        ++errors[result == CURLE_OPERATION_TIMEDOUT ? "timeout" : curl_easy_strerror(result)];
      } else if (status < 200 || status >= 300) {
        ++completed;
        ++errors[std::to_string(status)];
      } else {
        ++completed;
        latencies_ms.push_back((seconds_since(done) - scheduled) * 1000.0);
      }
    }
    // Sleep until the next arrival or network activity, whichever comes first.
    const double wait_s = next < when.size() ? when[next] - seconds_since(Clock::now()) : 0.1;
    if (wait_s > 0) {
      curl_multi_poll(multi, nullptr, 0, static_cast<int>(std::ceil(wait_s * 1000.0)), nullptr);
    }
  }
  for (Slot& slot : slots) curl_easy_cleanup(slot.easy);
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);

  std::sort(latencies_ms.begin(), latencies_ms.end());
  long error_count = dropped;
  for (const auto& [key, n] : errors) error_count += n;
  // Successful answers over the time until the last of them: a stalled request at the end lowers
  // it, so a rate counts as held only if it was also achieved to 90%.
  const double measured_s = std::max(seconds_since(last_done) - s.warmup_s, s.duration_s);
  const double achieved = static_cast<double>(latencies_ms.size()) / measured_s;
  const double p99 = percentile(latencies_ms, 0.99);
  return {{"rate_asked", rate},
          {"rate_achieved", achieved},
          {"duration_s", s.duration_s},
          {"sent", sent},
          {"completed", completed},
          {"ok", latencies_ms.size()},
          {"dropped", dropped},
          {"errors", errors},
          {"latency_ms",
           {{"p50", percentile(latencies_ms, 0.50)},
            {"p90", percentile(latencies_ms, 0.90)},
            {"p99", p99},
            {"max", latencies_ms.empty() ? 0.0 : latencies_ms.back()}}},
          {"held",
           error_count == 0 && !latencies_ms.empty() && p99 <= s.slo_ms && achieved >= 0.9 * rate}};
}

}  // namespace

int main(int argc, char** argv) {
  Settings s;
  CLI::App app{
      "Open-loop HTTP load generator (loopback only): POSTs the body of --body to --url at fixed "
      "rates, arrival times scheduled in advance, latency measured from each request's scheduled "
      "time. Prints JSON: per rate the rate asked and achieved, completed, dropped (due while "
      "--connections were all busy), errors by HTTP status or transport error, latency "
      "p50/p90/p99/max in ms, and whether the rate was held (no error, no drop, p99 <= --slo-ms, "
      "achieved to 90%); "
      "then the highest rate held and the highest rate achieved (the capacity).",
      "bench_serve_load"};
  app.add_option("--url", s.url, "target, e.g. http://127.0.0.1:8080/invocations")->required();
  app.add_option("--body", s.body_file, "file whose bytes are every request's body")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--content-type", s.content_type, "Content-Type header")->capture_default_str();
  app.add_option("--rate,--rates", s.rates,
                 "requests per second; several (comma-separated, ascending) make a sweep")
      ->required()
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  app.add_option("--duration", s.duration_s, "measured seconds per rate")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", s.warmup_s, "seconds at the same rate before measuring (not counted)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--arrivals", s.arrivals, "constant gaps or a Poisson process")
      ->capture_default_str()
      ->check(CLI::IsMember({"constant", "poisson"}));
  app.add_option("--connections", s.connections, "most requests in flight at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--timeout-ms", s.timeout_ms, "a request not answered by then is an error")
      ->capture_default_str()
      ->check(CLI::Range(1, 600000));
  app.add_option("--slo-ms", s.slo_ms, "p99 latency a rate must keep to count as held")
      ->capture_default_str();
  app.add_option("--pause", s.pause_s, "seconds between the rates of a sweep (the server drains)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--keep-going", s.keep_going,
               "run every rate of a sweep (default: stop at the first rate neither held nor "
               "achieved to 90%)");
  app.add_option("--seed", s.seed, "seed of the Poisson arrivals")->capture_default_str();
  app.add_option("--out", s.out, "write the JSON here instead of stdout");
  CLI11_PARSE(app, argc, argv);
  if (!std::is_sorted(s.rates.begin(), s.rates.end())) die("--rates must be ascending");
  require_loopback(s.url);
  const std::string body = read_file(s.body_file);
  curl_global_init(CURL_GLOBAL_DEFAULT);

  nlohmann::json runs = nlohmann::json::array();
  double best = 0;
  double capacity = 0;
  for (std::size_t i = 0; i < s.rates.size(); ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::duration<double>(s.pause_s));
    nlohmann::json r = run_rate(s, body, s.rates[i]);
    std::fprintf(
        stderr, "bench_serve_load: %s\n",
        fmt::format("{:.0f}/s asked, {:.1f}/s achieved, p50 {:.2f} ms, p99 {:.2f} ms, "
                    "dropped {}, errors {}",
                    s.rates[i], r["rate_achieved"].get<double>(),
                    r["latency_ms"]["p50"].get<double>(), r["latency_ms"]["p99"].get<double>(),
                    r["dropped"].get<long>(), r["errors"].dump())
            .c_str());
    const bool held = r["held"].get<bool>();
    // Past the highest rate held, the sweep goes on until the server is saturated (answers
    // under 90% of the rate asked): the greatest rate achieved is its capacity.
    const bool saturated = r["rate_achieved"].get<double>() < 0.9 * s.rates[i];
    capacity = std::max(capacity, r["rate_achieved"].get<double>());
    if (held) best = std::max(best, s.rates[i]);
    runs.push_back(std::move(r));
    if (!held && saturated && !s.keep_going) break;
  }
  curl_global_cleanup();
  const nlohmann::json out = {{"url", s.url},
                              {"arrivals", s.arrivals},
                              {"connections", s.connections},
                              {"warmup_s", s.warmup_s},
                              {"slo_ms", s.slo_ms},
                              {"runs", runs},
                              {"highest_rate_held", best},
                              {"highest_rate_achieved", capacity}};
  if (s.out.empty()) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::ofstream(s.out) << out.dump(2) << "\n";
  }
  return 0;
}
