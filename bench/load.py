"""The load driver: run as its own process so it never shares a CPU-bound GIL with the app.

    python bench/load.py '<json spec>'

The spec names ``port``, ``method``, ``path``, ``headers``, ``body`` (a string in which
every ``__N__`` becomes a number unique within the run), ``concurrency``, ``requests``
(the total) and ``max_seconds`` (a bound on the duration).  Every connection is a
keep-alive ``http.client`` connection to 127.0.0.1 only.  It prints one JSON object:
requests, errors, status counts, seconds, throughput, p50 and p99 in milliseconds, and
every latency too when the spec says ``"raw": true``.
"""

import http.client
import itertools
import json
import sys
import threading
import time


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def run(spec: dict) -> dict:
    port = int(spec["port"])
    method = spec.get("method", "GET")
    path = spec["path"]
    headers = dict(spec.get("headers") or {})
    body_template = spec.get("body")
    total = int(spec.get("requests", 200))
    deadline = time.monotonic() + float(spec.get("max_seconds", 60))
    counter = itertools.count(int(spec.get("first_number", 1)))
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors: list[str] = []
    issued = itertools.count()
    timeout = float(spec.get("timeout", 60))

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        while next(issued) < total and time.monotonic() < deadline:
            body = None
            if body_template is not None:
                body = body_template.replace("__N__", str(next(counter))).encode()
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
                with lock:
                    errors.append(repr(error))
                continue
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(int(spec.get("concurrency", 4)))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    latencies.sort()
    expected = int(spec.get("expect_status", 200))
    good = statuses.get(str(expected), 0)
    return {
        "requests": len(latencies),
        "ok": good,
        "statuses": statuses,
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "seconds": round(seconds, 3),
        "throughput": round(good / seconds, 1) if seconds else 0.0,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(sum(latencies) / len(latencies) * 1000, 1) if latencies else 0.0,
        **({"latencies_ms": [round(value * 1000, 3) for value in latencies]} if spec.get("raw") else {}),
    }


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
