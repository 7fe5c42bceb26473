"""Limits hold across processes: one gunicorn with several workers, as shipped.

With the cache in each process's memory, a one-use portal sign-in link worked once per
worker and each worker counted password guesses on its own. The API throttle admits
exactly its rate, whichever workers take the requests. The server here is gunicorn
with the shipped ``gunicorn.conf.py`` (four sync workers, DEBUG off) on the test database;
requests are sent at the same moment from separate connections, so they land on different
workers.
"""

import http.client
import re
import secrets
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

from tickets.portal import session
from tickets.tests import factories
from tickets.tests.test_scale_out import ROOT, _environment, _free_port, _stop, _wait_for_health

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 4
API_RATE = 40


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    port = _free_port()
    environment = _environment(
        {
            # The same key as this process, so links signed here are valid there.
            "SECRET_KEY": settings.SECRET_KEY,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": str(WORKERS),
            "WEB_THREADS": "1",
            "SUPPORT_EMAIL_SENDER": "none",
            "TASKS_BACKEND": "immediate",
            "API_THROTTLE_RATE": f"{API_RATE}/min",
        }
    )
    process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        [str(Path(sys.executable).parent / "gunicorn"), "helpdesk.wsgi", "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=environment,
    )
    try:
        _wait_for_health(port, process)
        yield port
    finally:
        _stop(process)


def _send(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        payload = urlencode(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        conn.request(method, path, body=payload, headers=all_headers)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        conn.close()


def _all_at_once(count: int, send) -> list:
    """Calls ``send(index)`` from ``count`` threads released together; their results."""
    start = threading.Barrier(count)
    results = [None] * count

    def run(index: int) -> None:
        start.wait(timeout=30)
        results[index] = send(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(result is not None for result in results), "a request did not finish"
    return results


def _csrf(headers: list, html: str) -> tuple[str, str]:
    """The CSRF cookie a page set and the token its form carries."""
    cookie = next(
        value.split(";")[0] for name, value in headers if name.lower() == "set-cookie" and "csrf" in value
    )
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return cookie, token


def test_a_one_use_sign_in_link_signs_in_once_across_all_workers(server):
    organization = factories.make_organization()
    ticket = factories.make_ticket(factories.make_inbox(organization), email="jane@example.com")
    token = session.make_signin_token(ticket.customer, nonce=secrets.token_urlsafe(12))
    path = f"/t/portal/{organization.slug}/signin/{token}/"
    status, headers, html = _send(server, "GET", path)
    assert status == 200
    cookie, csrf_token = _csrf(headers, html)

    results = _all_at_once(
        2 * WORKERS,
        lambda _: _send(server, "POST", path, {"csrfmiddlewaretoken": csrf_token}, {"Cookie": cookie}),
    )

    assert Counter(status for status, _, _ in results) == {302: 1, 400: 2 * WORKERS - 1}


def test_the_api_throttle_admits_exactly_its_rate_across_all_workers(server):
    organization = factories.make_organization()
    _, key = factories.make_api_key(organization)

    results = _all_at_once(
        3 * API_RATE // 2, lambda _: _send(server, "GET", "/api/v1/inboxes", headers={"X-API-Key": key})
    )

    assert Counter(status for status, _, _ in results) == {200: API_RATE, 429: API_RATE // 2}
    assert all(int(dict(headers)["Retry-After"]) > 0 for status, headers, _ in results if status == 429)


def test_the_lockout_counts_every_guess_made_on_any_worker(server):
    organization = factories.make_organization()
    agent = factories.make_agent(organization, email="target@example.test", password="the right one")
    status, headers, html = _send(server, "GET", "/accounts/login/")
    cookie, csrf_token = _csrf(headers, html)

    def guess(index: int):
        body = {"csrfmiddlewaretoken": csrf_token, "username": agent.email, "password": f"guess {index}"}
        return _send(server, "POST", "/accounts/login/", body, {"Cookie": cookie})

    guesses = 3 * WORKERS
    results = _all_at_once(guesses, guess)

    # Every guess was counted once, whichever worker took it (before: each worker counted
    # its own, and 19 guesses were checked against a lockout of 5).
    assert {status for status, _, _ in results} <= {200, 429}
    failures = AccessAttempt.objects.filter(username=agent.email).aggregate(total=Sum("failures_since_start"))
    assert failures["total"] == guesses
    body = {"csrfmiddlewaretoken": csrf_token, "username": agent.email, "password": "the right one"}
    status, _, html = _send(server, "POST", "/accounts/login/", body, {"Cookie": cookie})
    assert status == 429
    assert "Too many failed sign-in attempts" in html
