#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A fault-injecting HTTP(S) proxy for the integration tests: sits in front of the real MLflow
server and, for write requests under /api/, answers 500/503/429 itself, resets connections, stalls
or truncates responses with seeded probabilities; or answers every /api/ request with a bad 200.

Standard library only. Listens on 127.0.0.1, writes its base URL to --url-file when ready, reports
what it did at GET /__proxy/stats, moves to another upstream on POST /__proxy/upstream (body
http://HOST:PORT: a server moved to another port behind an address clients keep), stops cleanly on
SIGTERM/SIGINT.
"""

import argparse
import http.client
import http.server
import io
import json
import os
import random
import re
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

FAULTS = ("500", "503", "429", "reset_before", "reset_after", "stall", "truncate")
FAULT_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
# RFC 7230 hop-by-hop headers, plus the ones this proxy sets itself.
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade", "expect", "host", "content-length",
}
ERROR_BODIES = {
    500: ("INTERNAL_ERROR", "fault_proxy: injected 500"),
    503: ("TEMPORARILY_UNAVAILABLE", "fault_proxy: injected 503"),
    429: ("REQUEST_LIMIT_EXCEEDED", "fault_proxy: injected 429"),
}
GARBAGE_BODY = b"<html><body><h1>oops</h1>not an API response</body></html>"
BADJSON_BODY = b'{"run": {"info": '
# uvicorn closes idle keep-alive connections after 5 s; reconnect before that rather than race it.
UPSTREAM_IDLE_REUSE_S = 2.0


def parse_faults(spec):
    faults = []
    total = 0.0
    for item in filter(None, (s.strip() for s in (spec or "").split(","))):
        name, sep, prob = item.partition(":")
        if not sep or name not in FAULTS:
            raise argparse.ArgumentTypeError(
                f"bad fault '{item}': expected NAME:PROBABILITY, NAME one of {', '.join(FAULTS)}")
        try:
            p = float(prob)
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad probability in '{item}'") from None
        if not 0.0 <= p <= 1.0:
            raise argparse.ArgumentTypeError(f"probability in '{item}' must be in [0, 1]")
        total += p
        faults.append((name, p))
    if total > 1.0 + 1e-9:
        raise argparse.ArgumentTypeError(f"fault probabilities add up to {total:g} > 1")
    return faults


class Stats:
    def __init__(self):
        self._lock = threading.Lock()
        self._counts = {k: 0 for k in FAULTS + ("forwarded", "garbage", "badjson", "upstream_error",
                                                 "requests")}

    def add(self, key):
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1

    def snapshot(self):
        with self._lock:
            return dict(self._counts)


class Proxy(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many clients at once in the load tests
    allow_reuse_address = True

    def __init__(self, args, tls_context):
        super().__init__(("127.0.0.1", args.port), Handler)
        self.args = args
        self.tls_context = tls_context
        self.upstream_target = ("", 0, "", 0)
        if not self.set_upstream(args.upstream):
            raise SystemExit(
                f"fault_proxy: --upstream must be http://HOST:PORT, got {args.upstream!r}")
        self.faults = parse_faults(args.faults)
        self.fault_paths = re.compile(args.fault_paths)
        self.rng = random.Random(args.seed)
        self.rng_lock = threading.Lock()
        self.faults_left = args.max_faults  # None: no limit
        self.stats = Stats()
        self.stopping = threading.Event()

    def set_upstream(self, url):
        """Points new requests at `url`; connections kept to the old upstream are dropped at their
        next use. False when `url` is not http://HOST:PORT."""
        up = urllib.parse.urlsplit(url)
        if up.scheme != "http" or not up.hostname:
            return False
        # One tuple (host, port, netloc, generation) replaced whole: a request never sees half of
        # the old and half of the new.
        self.upstream_target = (up.hostname, up.port or 80, up.netloc,
                                self.upstream_target[3] + 1)
        return True

    def get_request(self):
        sock, addr = self.socket.accept()
        if self.tls_context is not None:
            # The handshake runs in the connection's thread (Handler.setup), not in the accept loop.
            sock = self.tls_context.wrap_socket(sock, server_side=True,
                                                do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout, OSError)):
            return  # clients giving up (timeouts, failed TLS verification) are expected here
        sys.stderr.write(f"fault_proxy: error serving {client_address}: {exc!r}\n")

    def pick_fault(self):
        with self.rng_lock:
            if self.faults_left == 0:
                return None
            r = self.rng.random()
            cumulative = 0.0
            for name, p in self.faults:
                cumulative += p
                if r < cumulative:
                    if self.faults_left is not None:
                        self.faults_left -= 1
                    return name
            return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault_proxy"

    def setup(self):
        super().setup()
        self.upstream = None
        self.upstream_used = 0.0
        self.upstream_generation = 0
        if self.server.tls_context is not None:
            self.connection.settimeout(20)
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError):
                self.close_connection = True
                self.handshake_failed = True
                return
            self.connection.settimeout(None)
        self.handshake_failed = False

    def handle(self):
        if not self.handshake_failed:
            super().handle()

    def log_message(self, fmt, *args):
        if self.server.args.verbose:
            sys.stderr.write("fault_proxy: %s %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        self.proxy()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    # -- request handling ---------------------------------------------------------------------

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)  # CRLF after the chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def proxy(self):
        body = self.read_body()
        path = urllib.parse.urlsplit(self.path).path
        server = self.server
        if self.command == "GET" and path == "/__proxy/stats":
            self.respond(200, [("Content-Type", "application/json")],
                         json.dumps(server.stats.snapshot()).encode())
            return
        if self.command == "POST" and path == "/__proxy/upstream":
            ok = server.set_upstream(body.decode(errors="replace").strip())
            self.respond(200 if ok else 400, [("Content-Type", "text/plain")],
                         b"ok" if ok else b"expected http://HOST:PORT")
            return
        server.stats.add("requests")
        api = path.startswith("/api/")
        if api and server.args.mode == "garbage":
            server.stats.add("garbage")
            self.respond(200, [("Content-Type", "text/html; charset=utf-8")], GARBAGE_BODY)
            return
        if api and server.args.mode == "badjson":
            server.stats.add("badjson")
            self.respond(200, [("Content-Type", "application/json")], BADJSON_BODY)
            return

        fault = None
        if api and self.command in FAULT_METHODS and server.fault_paths.search(path):
            fault = server.pick_fault()
        if fault in ("500", "503", "429"):
            server.stats.add(fault)
            status = int(fault)
            code, message = ERROR_BODIES[status]
            headers = [("Content-Type", "application/json")]
            if status == 429:
                headers.append(("Retry-After", str(server.args.retry_after)))
            body = json.dumps({"error_code": code, "message": message}).encode()
            self.respond(status, headers, body)
            return
        if fault == "reset_before":
            server.stats.add(fault)
            self.reset()
            return

        try:
            status, headers, resp_body = self.forward(body)
        except (OSError, http.client.HTTPException) as e:
            server.stats.add("upstream_error")
            self.respond(502, [("Content-Type", "text/plain")],
                         f"fault_proxy: upstream {server.upstream_target[2]} failed: {e!r}".encode())
            return
        if fault is None:
            server.stats.add("forwarded")
            self.respond(status, headers, resp_body)
            return
        server.stats.add(fault)
        if fault == "reset_after":
            self.reset()
        elif fault == "stall":
            server.stopping.wait(server.args.stall_seconds)
            try:
                self.respond(status, headers, resp_body)
            except OSError:
                self.close_connection = True  # the client gave up meanwhile, as intended
        elif fault == "truncate":
            self.send_response_only(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(resp_body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(resp_body[: len(resp_body) // 2])
            self.wfile.flush()
            self.close_connection = True

    def forward(self, body):
        """Sends the request upstream over this connection's keep-alive socket; returns
        (status, headers, body)."""
        server = self.server
        host, port, hostport, generation = server.upstream_target
        now = time.monotonic()
        if self.upstream is not None and (now - self.upstream_used > UPSTREAM_IDLE_REUSE_S or
                                          self.upstream_generation != generation):
            self.upstream.close()
            self.upstream = None
        if self.upstream is None:
            self.upstream = http.client.HTTPConnection(host, port, timeout=600)
            self.upstream_generation = generation
        conn = self.upstream
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", hostport)
            for k, v in self.headers.items():
                if k.lower() not in HOP_BY_HOP:
                    conn.putheader(k, v)
            if body or self.command in FAULT_METHODS:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            resp_body = resp.read()
        except BaseException:
            conn.close()
            self.upstream = None
            raise
        self.upstream_used = time.monotonic()
        if resp.will_close:
            conn.close()
            self.upstream = None
        headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        return resp.status, headers, resp_body

    def respond(self, status, headers, body):
        self.send_response_only(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def reset(self):
        """Closes the client connection abruptly: SO_LINGER 0 makes close() send RST."""
        self.close_connection = True
        sock = self.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        # The socket only really closes once its file objects are closed too.
        for f in (self.rfile, self.wfile):
            try:
                f.close()
            except OSError:
                pass
        sock.close()
        # The base class still flushes wfile after the handler returns.
        self.rfile, self.wfile = io.BytesIO(), io.BytesIO()


def main():
    ap = argparse.ArgumentParser(
        description="Fault-injecting HTTP(S) proxy in front of an MLflow server (tests only).",
        epilog="Faults apply to POST/PATCH/PUT/DELETE under /api/ matching --fault-paths; GET "
               "requests and /health are always forwarded. GET /__proxy/stats returns JSON counts; "
               "POST /__proxy/upstream with body http://HOST:PORT moves the proxy to that "
               "upstream.")
    ap.add_argument("--upstream", required=True, help="http://HOST:PORT of the real server")
    ap.add_argument("--url-file", required=True,
                    help="written atomically with this proxy's base URL (no newline) when ready")
    ap.add_argument("--port", type=int, default=0,
                    help="port on 127.0.0.1 (default 0: any free port)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the fault dice (default 0)")
    ap.add_argument("--faults", default="", type=str,
                    help="comma-separated FAULT:PROBABILITY with FAULT in " + ", ".join(FAULTS))
    ap.add_argument("--fault-paths", default=r"^/api/",
                    help="regex (re.search) a request path must match to get a fault "
                         "(default ^/api/)")
    ap.add_argument("--max-faults", type=int, default=None,
                    help="inject at most this many faults, then forward everything (default: no "
                         "limit)")
    ap.add_argument("--stall-seconds", type=float, default=30.0,
                    help="how long 'stall' holds a response (default 30)")
    ap.add_argument("--retry-after", type=int, default=1,
                    help="Retry-After seconds of a 429 (default 1)")
    ap.add_argument("--tls-cert", help="PEM certificate (chain): serve HTTPS")
    ap.add_argument("--tls-key", help="PEM private key of --tls-cert")
    ap.add_argument("--mode", choices=("forward", "garbage", "badjson"), default="forward",
                    help="garbage: 200 text/html for every /api/ request; badjson: 200 with "
                         "malformed JSON (default forward)")
    ap.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = ap.parse_args()
    try:
        parse_faults(args.faults)
        re.compile(args.fault_paths)
    except (argparse.ArgumentTypeError, re.error) as e:
        ap.error(str(e))
    if args.max_faults is not None and args.max_faults < 0:
        ap.error("--max-faults must be 0 or more")
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")

    tls_context = None
    if args.tls_cert:
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_context.load_cert_chain(args.tls_cert, args.tls_key)

    server = Proxy(args, tls_context)
    scheme = "https" if tls_context else "http"
    url = f"{scheme}://127.0.0.1:{server.server_address[1]}"

    stop = threading.Event()

    def on_signal(signum, frame):
        server.stopping.set()  # wakes stalled responses
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                               daemon=True)
    serving.start()
    tmp = args.url_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(url)
    os.replace(tmp, args.url_file)
    while not stop.wait(1.0):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
