# SPDX-License-Identifier: Apache-2.0
"""MLflow's REST API for the test scripts that check what a program left on the server (standard
library only): one call, and the flattening of a run's key/value lists."""

import json
import urllib.error
import urllib.parse
import urllib.request


class RestError(Exception):
    """An HTTP error answer; `code` and `answer` (the body) say which."""

    def __init__(self, method, endpoint, detail, code, answer):
        super().__init__(f"{method} {endpoint} {detail}: HTTP {code}: {answer}")
        self.code = code
        self.answer = answer

    def not_found(self):
        return self.code == 404 and "RESOURCE_DOES_NOT_EXIST" in self.answer


def call(url, endpoint, query=None, body=None, timeout=30):
    """The JSON answer of URL/api/2.0/mlflow/ENDPOINT: a POST of `body` when given, else a GET with
    `query`. Raises RestError for an HTTP error."""
    full = f"{url.rstrip('/')}/api/2.0/mlflow/{endpoint}"
    if query:
        full += "?" + urllib.parse.urlencode(query)
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(full, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise RestError(request.get_method(), endpoint, query or body or "", e.code,
                        e.read().decode(errors="replace")) from None


def flat(run, field):
    """A run's "tags", "params" or "metrics" as a dict of key to value."""
    return {kv["key"]: kv["value"] for kv in run["data"].get(field, [])}
