# SPDX-License-Identifier: Apache-2.0
"""Locust's version of the serving benchmark's scenario, as the Fashion-MNIST projects load-tested theirs:
POST /invocations with one test image (the body bench_serve_load sends, from fmnist_payload.py).
Locust is closed-loop (a user waits for its answer before the next request), so its latencies hide a
server's stalls; the figures in BENCHMARKS.md come from bench_serve_load, which is open-loop.

  python3 apps/bench/fmnist_payload.py --out /tmp/body.json
  SERVE_BODY=/tmp/body.json locust -f apps/bench/locustfile.py --headless -H http://127.0.0.1:8080 \\
      -u 16 -r 16 -t 30s
"""
import os

from locust import HttpUser, constant_throughput, task

BODY = open(os.environ.get("SERVE_BODY", "body.json"), "rb").read()


class Scorer(HttpUser):
    wait_time = constant_throughput(10)  # at most 10 requests/s per user: -u sets the offered rate

    @task
    def invocations(self):
        with self.client.post("/invocations", data=BODY, headers={"Content-Type": "application/json"},
                              catch_response=True) as r:
            if r.status_code != 200 or b"predictions" not in r.content:
                r.failure(f"HTTP {r.status_code}: {r.text[:200]}")
