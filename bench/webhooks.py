"""The webhook rows of `make bench` (issue 18).

1. A create with 5 subscribed endpoints: its statements in process, against the same
   create without the webhook subscriber (at most 1 more: the task that records its
   events), no HTTP during the request; then its throughput under load through gunicorn.
2. One worker process (`manage.py db_worker --batch`) records those events and delivers
   them to a receiver on 127.0.0.1: deliveries per second (target >= 200).
3. The receiver down (connections refused) for 15 s while changes come in and a worker
   runs: the backlog and the tries it cost; the receiver back: how long until the backlog
   is delivered, and each delivery's latency from the change to its delivery.

Only 127.0.0.1 is ever sent to; the receiver is a thread of this process.
"""

import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.load import percentile

ENDPOINTS = 5
# How long the receiver stays down in the last row.
DOWN_SECONDS = 15


class Receiver:
    """A local webhook receiver answering 204; counts what it got."""

    def __init__(self, port: int = 0):
        receiver = self
        self.count = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.count += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def remove_endpoints() -> None:
    """An earlier run's endpoints and the tasks it left: on reused data, the create rows
    must not fan out to a receiver that is gone (its retries would keep the worker from the
    mails)."""
    from webhooks.models import WebhookEndpoint

    WebhookEndpoint.objects.filter(organization__slug="bench").delete()
    forget_queued_tasks()


def add_endpoints(port: int) -> list:
    from accounts.models import Organization
    from tickets.actors import Actor
    from webhooks import services

    organization = Organization.objects.get(slug="bench")
    # A run on reused data starts from these five alone.
    remove_endpoints()
    return [
        services.create_endpoint(
            organization=organization,
            actor=Actor.system("Bench"),
            url=f"http://127.0.0.1:{port}/hooks/{number}",
            events=["*"],
            description=f"bench receiver {number}",
        )[0]
        for number in range(ENDPOINTS)
    ]


def create_statements(api_key: str, inbox: str, email: str, *, webhooks: bool) -> int:
    """Statements of one create through the API, in process, with or without webhooks."""
    import json

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tickets import events
    from webhooks import subscribers

    saved = {event_type: list(subs) for event_type, subs in events._subscribers.items()}
    if not webhooks:
        for subs in events._subscribers.values():
            if subscribers.on_domain_event in subs:
                subs.remove(subscribers.on_domain_event)
    try:
        client = Client(HTTP_HOST="127.0.0.1")
        body = {"inbox": inbox, "customer": {"email": email}, "subject": "Webhook bench", "message": "Hello"}
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                "/api/v1/tickets",
                json.dumps(body),
                content_type="application/json",
                headers={"X-API-Key": api_key},
            )
        if response.status_code != 201:
            raise SystemExit(f"create answered {response.status_code}: {response.content[:300]!r}")
        return len(captured.captured_queries)
    finally:
        events._subscribers.clear()
        events._subscribers.update(saved)


def forget_queued_tasks() -> None:
    """The earlier rows' queued tasks (their events), so the worker rows time only their own."""
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(status="READY").delete()


def start_worker(env: dict) -> subprocess.Popen:
    """A worker that keeps running (as in production), stopped by ``stop_worker``."""
    return subprocess.Popen(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.2"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**env, "LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def run_worker(env: dict) -> float:
    started = time.monotonic()
    subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay", "--interval", "0"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**env, "LOG_LEVEL": "WARNING"},
        check=True,
        capture_output=True,
    )
    return time.monotonic() - started


def _deliveries(since):
    from webhooks.models import WebhookDelivery

    return WebhookDelivery.objects.filter(
        created_at__gte=since, event__type__in=["ticket.created", "customer.created"]
    )


def _latencies_ms(deliveries) -> list[float]:
    return sorted(
        (delivered_at - occurred_at).total_seconds() * 1000
        for delivered_at, occurred_at in deliveries.filter(status="delivered").values_list(
            "delivered_at", "event__occurred_at"
        )
    )


def _row(
    name: str, *, requests: int, ok: int, seconds: float, latencies: list[float], queries=None, notes=""
):
    return {
        "name": name,
        "requests": requests,
        "ok": ok,
        "errors": requests - ok,
        "statuses": {},
        "seconds": round(seconds, 3),
        "throughput": round(ok / seconds, 1) if seconds else 0.0,
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "queries": queries,
        "notes": notes,
    }


def measure(
    *, port: int, creds: dict, args, env: dict, drive, create_spec: dict, api_headers: dict, run_tag: int
):
    """The webhook rows and their checks."""
    from django.conf import settings
    from django.db import connection
    from django.db.models import Max, Min
    from django.utils import timezone

    from webhooks.models import WebhookAttempt

    receiver = Receiver()
    try:
        add_endpoints(receiver.port)
        # The key's first request in this process writes its last use: not the create's.
        create_statements(
            creds["api_key"], creds["inbox"], f"hooks-warm-{run_tag}@bench.example", webhooks=False
        )
        before = create_statements(
            creds["api_key"], creds["inbox"], f"hooks-off-{run_tag}@bench.example", webhooks=False
        )
        received_before = receiver.count
        with_hooks = create_statements(
            creds["api_key"], creds["inbox"], f"hooks-on-{run_tag}@bench.example", webhooks=True
        )
        http_in_request = receiver.count - received_before
        connection.close()
        forget_queued_tasks()
        phase_start = timezone.now()

        # Creates under load with 5 endpoints listening (the worker is not running yet).
        load = drive(
            port,
            path="/api/v1/tickets",
            headers=api_headers,
            requests=args.webhook_creates,
            **{**create_spec, "first_number": run_tag * 1000 + 20_000_000},
        )
        rows = [
            {
                "name": f"create-ticket, {ENDPOINTS} webhook endpoints",
                **load,
                "queries": with_hooks,
                "notes": f"+{with_hooks - before} statement(s) vs no webhooks ({before}); "
                f"{http_in_request} HTTP request(s) during the request",
            }
        ]

        # One worker process: records the events, then delivers them.
        worker_seconds = run_worker(env)
        deliveries = _deliveries(phase_start)
        total = deliveries.count()
        delivered = deliveries.filter(status="delivered")
        window = delivered.aggregate(first=Min("first_attempt_at"), last=Max("delivered_at"))
        seconds = (window["last"] - window["first"]).total_seconds() if total and window["last"] else 0.0
        durations = sorted(
            WebhookAttempt.objects.filter(delivery__in=deliveries).values_list("duration_ms", flat=True)
        )
        delivery_rate = delivered.count() / seconds if seconds else 0.0
        rows.append(
            _row(
                "webhooks: 1 worker delivering",
                requests=total,
                ok=delivered.count(),
                seconds=seconds,
                latencies=[float(value) for value in durations],
                notes=f"{delivered.count()} of {total} delivered to {ENDPOINTS} endpoints; p50/p99 = one "
                f"POST; the worker ran {worker_seconds:.1f} s (start-up and recording "
                f"{args.webhook_creates * 2} events included)",
            )
        )
    finally:
        receiver.stop()

    # The receiver down (connections refused) for DOWN_SECONDS while changes keep coming and
    # a worker keeps running; then back on the same port until the backlog is delivered.
    worker = start_worker(env)
    try:
        down_start = timezone.now()
        down_since = time.monotonic()
        load_down = drive(
            port,
            path="/api/v1/tickets",
            headers=api_headers,
            requests=args.webhook_down_creates,
            **{**create_spec, "first_number": run_tag * 1000 + 30_000_000, "concurrency": 1},
        )
        time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down_since)))
        deliveries = _deliveries(down_start)
        backlog = deliveries.filter(status="pending").count()
        tries_while_down = WebhookAttempt.objects.filter(delivery__in=deliveries).count()
        receiver = Receiver(port=receiver.port)
        back_at = time.monotonic()
        # Each create tells two events (customer.created, ticket.created), each to every
        # endpoint. Wait for all of them delivered, not merely for none pending: a slow
        # worker may not yet have recorded the last create's events, whose deliveries do
        # not exist until it has.
        expected = load_down["ok"] * 2 * ENDPOINTS
        try:
            deadline = back_at + args.max_seconds
            while deliveries.filter(status="delivered").count() < expected and time.monotonic() < deadline:
                time.sleep(0.5)
            recovery_seconds = time.monotonic() - back_at
        finally:
            receiver.stop()
    finally:
        stop_worker(worker)
    total = deliveries.count()
    delivered_count = deliveries.filter(status="delivered").count()
    latencies = _latencies_ms(deliveries)
    rows.append(
        _row(
            "webhooks: receiver down, then back",
            requests=total,
            ok=delivered_count,
            seconds=recovery_seconds,
            latencies=latencies,
            notes=f"down {DOWN_SECONDS} s during {load_down['ok']} creates: {backlog} deliveries waiting "
            f"after {tries_while_down} tries; back: all delivered {recovery_seconds:.1f} s later "
            f"(retries from {settings.WEBHOOK_RETRY_BASE_SECONDS} s here); p50/p99 = change to delivery",
        )
    )
    checks = [
        (
            f"create with {ENDPOINTS} endpoints: <= 1 more statement, no HTTP",
            with_hooks - before <= 1 and http_in_request == 0,
            f"+{with_hooks - before}, {http_in_request} HTTP",
        ),
        ("one worker delivers >= 200 webhooks/s", delivery_rate >= 200, f"{delivery_rate:.0f}/s"),
        (
            "backlog delivered once the receiver is back",
            delivered_count == total == expected,
            f"{delivered_count}/{expected}",
        ),
    ]
    return rows, checks
