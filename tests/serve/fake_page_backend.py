#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A stand-in for fmnist_serve's page API, for the page's unit-level browser test (page_unit).

It serves apps/fmnist_serve/page/index.html from the source tree at GET / and answers GET /health,
GET /classes and POST /predict as serve-contract.md describes, with a fixed model and a fixed
answer (--answer CLASS), so the test checks what the page does with the answers: the model shown,
the bars in order, the top three highlighted, the server's error message. The real server is
tested by page_integration (same page_test.py, against fmnist_serve and a registered model).

Prints the base URL on stdout once it listens, then serves until killed.
"""
import argparse
import email.parser
import email.policy
import http.server
import json
import sys

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]
MODEL = {"name": "fmnist-classifier", "version": "7", "alias": "champion"}


def probabilities(answer):
    """Ten probabilities summing to 1: `answer` far ahead, the rest small and all different."""
    rest = [0.001 * (i + 1) for i in range(len(CLASSES))]
    rest[answer] = 0.0
    out = list(rest)
    out[answer] = 1.0 - sum(rest)
    return out


def uploaded_file(headers, body):
    """The bytes of the multipart field "file", or None."""
    head = f"Content-Type: {headers.get('Content-Type', '')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return None
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            return part.get_payload(decode=True)
    return None


def make_handler(page_path, answer):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet: the test prints what matters
            pass

        def send(self, status, content_type, data):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def send_json(self, status, obj):
            self.send(status, "application/json", json.dumps(obj).encode())

        def error(self, status, code, message):
            self.send_json(status, {"error_code": code, "message": message})

        def do_GET(self):
            if self.path == "/":
                with open(page_path, "rb") as f:
                    self.send(200, "text/html; charset=utf-8", f.read())
            elif self.path == "/health":
                model = dict(MODEL, uri="models:/fmnist-classifier@champion")
                self.send_json(200, {"status": "ok", "model": model})
            elif self.path == "/classes":
                self.send_json(200, {"classes": CLASSES})
            else:
                self.error(404, "ENDPOINT_NOT_FOUND", f"no such endpoint: GET {self.path}")

        def do_POST(self):
            if self.path != "/predict":
                self.error(404, "ENDPOINT_NOT_FOUND", f"no such endpoint: POST {self.path}")
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            data = uploaded_file(self.headers, body)
            if data is None:
                self.error(400, "BAD_REQUEST", 'expected a multipart/form-data field "file"')
            elif not (data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")):
                self.error(400, "BAD_REQUEST", "the upload is not a PNG or JPEG image (fake)")
            else:
                self.send_json(200, {"class": answer, "class_name": CLASSES[answer],
                                     "probabilities": probabilities(answer), "model": MODEL})

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", required=True, help="path of apps/fmnist_serve/page/index.html")
    parser.add_argument("--answer", type=int, default=9, choices=range(len(CLASSES)),
                        help="the class every image is given (default 9, Ankle boot)")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port),
                                             make_handler(args.page, args.answer))
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
