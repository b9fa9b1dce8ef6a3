// SPDX-License-Identifier: Apache-2.0
// HttpTransport over libcurl: a pool of easy handles, so connections are kept alive and reused.
#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "mlflow/ascii.h"
#include "mlflow/http.h"

namespace mlflow {

std::optional<std::string> HttpResponse::header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return std::nullopt;
}

namespace {

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = ascii_lower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    auto b = value.find_first_not_of(" \t");
    auto e = value.find_last_not_of(" \t\r\n");
    value = b == std::string::npos ? "" : value.substr(b, e - b + 1);
    auto* headers = static_cast<Headers*>(user);
    if (name.rfind("http/", 0) != 0) headers->emplace_back(std::move(name), std::move(value));
  } else if (line.rfind("HTTP/", 0) == 0) {
    static_cast<Headers*>(user)->clear();  // a new response (after 100-continue or a redirect)
  }
  return size * n;
}

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(TlsOptions tls) : tls_(std::move(tls)), no_proxy_(loopback_no_proxy()) {
    global_init_once();
  }
  ~CurlTransport() override {
    for (CURL* h : idle_) curl_easy_cleanup(h);
  }
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  StatusOr<HttpResponse> send(const HttpRequest& req) override {
    CURL* h = acquire();
    HttpResponse resp;
    curl_slist* hdrs = nullptr;
    for (const auto& [k, v] : req.headers) {
      std::string header = k;
      header += ": ";
      header += v;
      hdrs = curl_slist_append(hdrs, header.c_str());
    }
    hdrs = curl_slist_append(hdrs, "Expect:");  // no 100-continue round trip on uploads

    curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<long long>(req.timeout.count(), 30'000)));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp.body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp.headers);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // accept any encoding curl supports
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, req.fresh_connection ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, no_proxy_.c_str());
    if (tls_.insecure) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!tls_.ca_bundle_path.empty())
      curl_easy_setopt(h, CURLOPT_CAINFO, tls_.ca_bundle_path.c_str());
    if (!tls_.client_cert_path.empty()) {
      curl_easy_setopt(h, CURLOPT_SSLCERT, tls_.client_cert_path.c_str());
    }

    if (req.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    }

    char error_detail[CURL_ERROR_SIZE] = {0};  // curl's specific reason, e.g. which check failed
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_detail);

    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    release(h);
    if (rc != CURLE_OK) {
      StatusCode code = rc == CURLE_OPERATION_TIMEDOUT ? StatusCode::kDeadlineExceeded
                        : (rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_PEER_FAILED_VERIFICATION ||
                           rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_URL_MALFORMAT ||
                           rc == CURLE_UNSUPPORTED_PROTOCOL)
                            ? StatusCode::kFailedPrecondition
                            : StatusCode::kUnavailable;
      std::string message = error_detail[0] != '\0' ? error_detail : curl_easy_strerror(rc);
      if (rc == CURLE_PEER_FAILED_VERIFICATION) {
        message += tls_.ca_bundle_path.empty()
                       ? " (TLS certificate verification failed: set "
                         "MLFLOW_TRACKING_SERVER_CERT_PATH to the CA bundle that signed the "
                         "server's certificate, or MLFLOW_TRACKING_INSECURE_TLS=true to skip "
                         "verification)"
                       : " (TLS certificate verification failed with the CA bundle " +
                             tls_.ca_bundle_path + ")";
      } else if (rc == CURLE_SSL_CACERT_BADFILE) {
        message += " (CA bundle " + tls_.ca_bundle_path + ")";
      }
      return Status(code, message);
    }
    resp.status = static_cast<int>(status);
    return resp;
  }

 private:
  CURL* acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }
  void release(CURL* h) {
    // Reset options but keep the handle's connection cache, so the next request reuses the socket.
    curl_easy_reset(h);
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(h);
  }

  // The user's no_proxy list plus loopback: a local-mode server must never be reached via a proxy.
  static std::string loopback_no_proxy() {
    std::string list = "127.0.0.1,localhost,::1";
    for (const char* var : {"no_proxy", "NO_PROXY"}) {
      if (const char* v = std::getenv(var); v != nullptr && *v != '\0')
        return std::string(v) + "," + list;
    }
    return list;
  }

  TlsOptions tls_;
  std::string no_proxy_;
  std::mutex mu_;
  std::vector<CURL*> idle_;
};

}  // namespace

std::shared_ptr<HttpTransport> make_curl_transport(const TlsOptions& tls) {
  return std::make_shared<CurlTransport>(tls);
}

}  // namespace mlflow
