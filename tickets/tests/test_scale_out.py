"""Scale-out proof: two app servers and a task worker, separate processes, one PostgreSQL.

Nothing that must be exact may live in one process's memory: ticket numbers, daily limits,
monthly quotas, Idempotency-Keys and notifications all hold when concurrent requests land
on different servers.  The servers are gunicorn with the production settings (DEBUG off),
pointed at the test database; the worker is ``manage.py db_worker``.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django_tasks_db.models import DBTaskResult

from tickets.models import Delivery, Ticket
from tickets.tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


class SmtpCollector:
    """A real SMTP server's handler (aiosmtpd): every message the workers send lands here."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    settings = connection.settings_dict
    password = f":{quote(settings['PASSWORD'], safe='')}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or "5432"
    return f"postgres://{quote(settings['USER'], safe='')}{password}@{host}:{port}/{settings['NAME']}"


def _environment(extra: dict | None = None) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "DEBUG": "0",
        "SECRET_KEY": "scale-out-test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_MANIFEST": "0",
        "TASKS_BACKEND": "database",
        "API_THROTTLE_RATE": "100000/min",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_ACCESS_LOG": "",
        **(extra or {}),
    }


def _wait_for_health(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "an app server exited at start"
        try:
            status, _ = _request(port, "GET", "/healthz")
            if status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the app server on port {port} did not start")


def _request(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else None)
    finally:
        conn.close()


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker):
    """Two gunicorn servers and one task worker against the test database, for the module.

    Started once (each test's data is flushed between tests, the processes stay) and always
    stopped, by their pids, at the end.
    """
    collector = SmtpCollector()
    smtp = Controller(collector, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    environment = _environment(
        {
            "SUPPORT_EMAIL_SENDER": "smtp",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "EMAIL_TIMEOUT": "10",
            "SUPPORT_EMAIL": "support@scale.test",
        }
    )
    processes = []
    try:
        ports = []
        for _ in range(2):
            port = _free_port()
            server = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
                [str(Path(sys.executable).parent / "gunicorn"), "helpdesk.wsgi", "-c", "gunicorn.conf.py"],
                cwd=ROOT,
                env={**environment, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2"},
            )
            processes.append(server)
            ports.append(port)
        worker = subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
            [sys.executable, "manage.py", "db_worker", "--interval", "0.1"],
            cwd=ROOT,
            env=environment,
        )
        processes.append(worker)
        for port, server in zip(ports, processes, strict=False):
            _wait_for_health(port, server)
        yield ports, collector, worker
    finally:
        for process in processes:
            _stop(process)
        smtp.stop()


@pytest.fixture
def servers(cluster):
    """The two servers' ports; the SMTP collector starts each test empty."""
    ports, collector, worker = cluster
    assert worker.poll() is None, "the task worker has exited"
    with collector.lock:
        collector.received.clear()
    yield ports
    # Let the worker finish what this test queued before the test's rows are flushed under it.
    deadline = time.monotonic() + 60
    while DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
        assert time.monotonic() < deadline, "the task queue did not drain"
        time.sleep(0.2)


def _post_concurrently(ports: list[int], key: str, payloads: list[dict], headers: dict | None = None):
    """POST each payload from its own thread, alternating servers, released together."""
    start = threading.Barrier(len(payloads))
    results = [None] * len(payloads)

    def send(index: int, payload: dict) -> None:
        start.wait(timeout=30)
        results[index] = _request(
            ports[index % len(ports)],
            "POST",
            "/api/v1/tickets",
            payload,
            {"X-API-Key": key, **(headers or {})},
        )

    threads = [threading.Thread(target=send, args=item) for item in enumerate(payloads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(result is not None for result in results), "a request did not finish"
    return results


def _payload(email: str, subject: str = "Invoice download fails") -> dict:
    return {
        "customer": {"email": email, "name": "Concurrent Customer"},
        "subject": subject,
        "message": "The invoice page answers an error since this morning.",
    }


def test_ticket_numbers_stay_consecutive_when_two_servers_create_at_once(servers):
    organization = factories.make_organization()
    inbox = factories.make_inbox(organization, prefix="SCL", daily_limit_per_customer=None, is_default=True)
    _, key = factories.make_api_key(organization)

    results = _post_concurrently(
        servers, key, [_payload(f"numbers{index}@example.com") for index in range(30)]
    )

    assert Counter(status for status, _ in results) == {201: 30}, results
    numbers = sorted(Ticket.objects.filter(inbox=inbox).values_list("number", flat=True))
    assert numbers == list(range(1, 31))
    assert sorted(body["number"] for _, body in results) == numbers
    assert {body["reference"] for _, body in results} == {f"SCL-{number}" for number in numbers}
    inbox.refresh_from_db()
    assert inbox.next_number == 31


def test_the_daily_limit_of_two_holds_across_servers(servers):
    organization = factories.make_organization()
    inbox = factories.make_inbox(organization, prefix="DAY", daily_limit_per_customer=2, is_default=True)
    _, key = factories.make_api_key(organization)

    results = _post_concurrently(servers, key, [_payload("same.person@example.com") for _ in range(12)])

    assert Counter(status for status, _ in results) == {201: 2, 429: 10}, results
    assert Ticket.objects.filter(inbox=inbox).count() == 2
    assert organization.customers.count() == 1


def test_the_monthly_quota_holds_across_servers(servers):
    organization = factories.make_organization(monthly_ticket_quota=5)
    inbox = factories.make_inbox(organization, prefix="QTA", daily_limit_per_customer=None, is_default=True)
    _, key = factories.make_api_key(organization)

    results = _post_concurrently(servers, key, [_payload(f"quota{index}@example.com") for index in range(14)])

    assert Counter(status for status, _ in results) == {201: 5, 429: 9}, results
    assert Ticket.objects.filter(inbox=inbox).count() == 5


def test_an_idempotency_key_retried_against_both_servers_creates_one_ticket(servers):
    organization = factories.make_organization()
    inbox = factories.make_inbox(organization, prefix="IDM", daily_limit_per_customer=None, is_default=True)
    _, key = factories.make_api_key(organization)
    payload = _payload("retry@example.com", subject="Charged twice")

    results = _post_concurrently(
        servers, key, [payload] * 10, headers={"Idempotency-Key": "order-7731-create"}
    )

    assert Counter(status for status, _ in results) == {201: 10}, results
    assert len({body["id"] for _, body in results}) == 1
    assert Ticket.objects.filter(inbox=inbox).count() == 1
    # Later retries, one per server, still answer the same ticket.
    for port in servers:
        status, body = _request(
            port,
            "POST",
            "/api/v1/tickets",
            payload,
            {"X-API-Key": key, "Idempotency-Key": "order-7731-create"},
        )
        assert (status, body["id"]) == (201, results[0][1]["id"])
    assert Ticket.objects.filter(inbox=inbox).count() == 1


def test_every_notification_is_sent_exactly_once_by_the_worker(servers, cluster):
    _, collector, _ = cluster
    organization = factories.make_organization()
    inbox = factories.make_inbox(
        organization,
        prefix="NTF",
        daily_limit_per_customer=None,
        is_default=True,
        support_email="desk@scale.test",
    )
    _, key = factories.make_api_key(organization)
    customers = [f"notify{index}@example.com" for index in range(16)]

    results = _post_concurrently(servers, key, [_payload(email) for email in customers])
    assert Counter(status for status, _ in results) == {201: 16}, results

    # The web processes only record queued deliveries and enqueue tasks; the one worker
    # process sends them.  Wait for it to drain the queue.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if not Delivery.objects.filter(ticket__inbox=inbox, status=Delivery.Status.QUEUED).exists():
            break
        time.sleep(0.5)
    deliveries = list(Delivery.objects.filter(ticket__inbox=inbox))
    # Each new ticket: a copy to the inbox's support address and a confirmation to the customer.
    assert len(deliveries) == 32
    assert Counter((delivery.ticket_id, delivery.kind) for delivery in deliveries) == {
        (ticket_id, kind): 1
        for ticket_id in Ticket.objects.filter(inbox=inbox).values_list("pk", flat=True)
        for kind in (Delivery.Kind.NEW_TICKET, Delivery.Kind.CONFIRMATION)
    }
    assert {delivery.status for delivery in deliveries} == {Delivery.Status.SENT}
    # What the SMTP server received: every delivery once, nothing twice.
    time.sleep(1)  # a worker retrying a delivery twice would show up here
    with collector.lock:
        received = Counter(recipient for recipients, _ in collector.received for recipient in recipients)
    assert received == Counter({"desk@scale.test": 16, **dict.fromkeys(customers, 1)})
