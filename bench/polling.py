"""The polling rows of `make bench` (issue 16, item 13): live updates without load.

The dashboard's queue and ticket pages poll every 5 s. A poll with nothing new is answered
204 from the shared cache (a version counter and a signed poll token; no session, no
query). This drives such polls against gunicorn configured as in production — the bench's
environment plus Redis as the shared cache, as production runs — and reports polls per
second per core; a poll of the queue rendered in full (no token: what every poll cost
before) is measured beside it.

Redis is the one on 127.0.0.1:6379 (database 15, emptied at the start), or
``BENCH_REDIS_URL``; without one the rows say so and measure the database cache.
Only 127.0.0.1 is ever sent to.
"""

import os
import re
import socket
import urllib.request
from urllib.parse import urlsplit

# A poll token older than a minute takes the full path again (tickets/live.py): each
# unchanged-poll run stays well inside that minute.
MAX_SECONDS = 40


def _redis_url() -> str:
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1):
            return url
    except OSError:
        return ""


def _get(port: int, path: str, headers: dict) -> tuple[int, str, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
        return response.status, response.read().decode(), dict(response.headers)


def _token(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*data-live-token="([^"]+)"', html)
    if not found:
        raise SystemExit(f"polling bench: no poll token on #{element_id}")
    return found.group(1)


def measure(*, creds: dict, args, env: dict, drive, start_gunicorn, stop) -> list[dict]:
    """The rows: unchanged queue poll, unchanged ticket poll, and the queue poll in full."""
    redis_url = _redis_url()
    server_env = {**env, "REDIS_URL": redis_url} if redis_url else env
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    from bench.run import free_port

    port = free_port()
    server = start_gunicorn(server_env, port, args.workers)
    try:
        cookie = {"Cookie": f"sessionid={creds['session']}"}
        _, queue_html, _ = _get(port, "/desk/", cookie)
        ticket_path = re.search(r'href="(/desk/tickets/[0-9A-Z]{26}/)', queue_html).group(1)
        # A page's first poll renders in full and hands the token its later polls send.
        _, first_rows, _ = _get(
            port,
            "/desk/rows",
            {**cookie, "HX-Request": "true", "X-Live-Token": _token(queue_html, "queue-live")},
        )
        queue_headers = {**cookie, "HX-Request": "true", "X-Live-Token": _token(first_rows, "queue-live")}

        _, ticket_html, _ = _get(port, ticket_path, cookie)
        _, first_poll, _ = _get(
            port,
            ticket_path + "timeline",
            {**cookie, "HX-Request": "true", "X-Live-Token": _token(ticket_html, "timeline")},
        )
        presence = re.search(r'data-presence="([^"]*)"', first_poll).group(1)
        ticket_headers = {
            **cookie,
            "HX-Request": "true",
            "X-Live-Token": _token(first_poll, "timeline"),
            "X-Live-Presence": presence,
        }

        polls = max(20 * args.reads, 400)
        spec = {"concurrency": 4, "max_seconds": min(args.max_seconds, MAX_SECONDS), "timeout": args.timeout}
        rows = []
        cores = os.cpu_count() or 1
        cache_note = "Redis" if redis_url else "the database cache (no Redis on 127.0.0.1:6379)"
        for name, path, headers, expected, count in [
            ("poll, unchanged queue (204)", "/desk/rows", queue_headers, 204, polls),
            ("poll, unchanged ticket (204)", ticket_path + "timeline", ticket_headers, 204, polls),
            ("poll, queue rendered in full", "/desk/rows", {**cookie, "HX-Request": "true"}, 200, args.reads),
        ]:
            drive(port, path=path, headers=headers, requests=20, expect_status=expected, **spec)
            result = drive(port, path=path, headers=headers, requests=count, expect_status=expected, **spec)
            per_core = result["throughput"] / cores
            notes = (
                f"{per_core:.0f} polls/s per core ({cores} cores shared with the load driver); {cache_note}"
            )
            if result["ok"] != result["requests"] or not result["requests"]:
                outcome = f"{result['ok']} of {result['requests']} answered {expected} ({result['statuses']})"
                notes = f"FAILED: {outcome}; {notes}"
            rows.append({"name": name, **result, "per_core": round(per_core, 1), "notes": notes})
        return rows
    finally:
        stop(server)
