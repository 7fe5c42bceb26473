"""Faults lose nothing: a database failing mid-request leaves no partial ticket, Redis
down changes nothing a user sees (limits count in the database).

The mail provider being down is the email face's promise: a failed delivery is retried
and recorded without failing or losing the ticket (see ``tickets/tests/test_mail*.py``).
"""

import base64
import json
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.db.backends.utils import CursorWrapper
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import User
from tickets.models import Customer, Message, Tag, Ticket, TicketEvent
from tickets.tests.api_helpers import assert_error, ticket_payload

WATCHED = (Ticket, Message, Customer, Tag, TicketEvent)

# A port nothing listens on: every Redis call fails with a connection error.
CLOSED_REDIS = {
    "default": {
        "BACKEND": "helpdesk.cache.DegradingRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in WATCHED}


@pytest.fixture
def api_no_raise(api_key):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_X_API_KEY=api_key)
    return client


def database_failing_on_insert_into(table: str):
    """The database connection breaking when the request inserts into ``table``."""

    def execute(execute, sql, params, many, context):
        if sql.startswith(f'INSERT INTO "{table}"'):
            raise OperationalError("server closed the connection")
        return execute(sql, params, many, context)

    return connection.execute_wrapper(execute)


@pytest.mark.parametrize(
    ("failure", "label"),
    [
        (lambda: database_failing_on_insert_into("tickets_message"), "the first message"),
        (lambda: database_failing_on_insert_into("tickets_ticketevent"), "the created event"),
        (
            lambda: mock.patch(
                "tickets.services.tickets.store_attachments",
                side_effect=OperationalError("server closed the connection"),
            ),
            "attachments",
        ),
    ],
    ids=["first message", "created event", "attachments"],
)
def test_database_failing_mid_create_leaves_no_partial_ticket_and_answers_503(
    api_no_raise, inbox, failure, label
):
    before = counts()
    with failure():
        response = api_no_raise.post(
            "/api/v1/tickets",
            json.dumps(ticket_payload(tags=["fresh-tag"], customer={"email": "new@example.com"})),
            content_type="application/json",
        )
    body = assert_error(response, 503)
    assert "nothing was saved" in body["message"]
    assert response["Retry-After"]
    assert counts() == before, f"a failure while storing {label} left rows behind"


def test_database_failing_mid_reply_leaves_no_message_and_no_status_change(api_no_raise, ticket):
    before = counts()
    with mock.patch("tickets.services.messages.record_event", side_effect=OperationalError("gone")):
        response = api_no_raise.post(
            f"/api/v1/tickets/{ticket.public_id}/messages",
            json.dumps({"body": "We are on it."}),
            content_type="application/json",
        )
    assert_error(response, 503)
    assert counts() == before
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.first_response_at is None


def test_database_failing_mid_update_changes_nothing(api_no_raise, ticket, agent):
    with mock.patch("tickets.services.tickets.set_status_locked", side_effect=OperationalError("gone")):
        response = api_no_raise.patch(
            f"/api/v1/tickets/{ticket.public_id}",
            json.dumps({"status": "resolved", "priority": "urgent", "subject": "Changed subject"}),
            content_type="application/json",
        )
    assert_error(response, 503)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.subject) == ("open", "normal", "Cannot log in")
    assert list(ticket.events.values_list("action", flat=True)) == ["created"]


def test_a_retry_after_the_outage_creates_the_ticket_exactly_once(api_no_raise, inbox):
    payload = json.dumps(ticket_payload())
    with database_failing_on_insert_into("tickets_ticketevent"):
        first = api_no_raise.post(
            "/api/v1/tickets", payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="retry-1"
        )
    assert first.status_code == 503
    second = api_no_raise.post(
        "/api/v1/tickets", payload, content_type="application/json", HTTP_IDEMPOTENCY_KEY="retry-1"
    )
    assert second.status_code == 201, second.content
    assert Ticket.objects.count() == 1


# Every other face: pages, webhooks, the health check -------------------------------------------


@pytest.mark.parametrize("who", ["agent", "customer", "anonymous"])
def test_a_database_outage_on_a_page_is_a_503_page_with_retry_after(agent_client, client, ticket, who):
    browser, path = {
        "agent": (agent_client, "/desk/"),
        "customer": (client, f"/t/{ticket.public_id}/{ticket.access_key}/"),
        "anonymous": (client, "/accounts/login/"),
    }[who]
    browser.raise_request_exception = False
    with mock.patch.object(CursorWrapper, "execute", side_effect=OperationalError("gone")):
        response = browser.get(path) if who != "anonymous" else browser.post(path, {"username": "a@b.c"})
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert b"briefly unavailable" in response.content
    assert int(response["Retry-After"]) > 0


def test_a_database_outage_on_the_inbound_mail_webhook_is_a_503_so_the_provider_retries(
    client, inbox, settings
):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "anymail:webhook-secret"}
    client.raise_request_exception = False
    payload = {
        "email": "From: Jane <jane@example.com>\r\nTo: support@acme.test\r\nSubject: Hi\r\n\r\nHello",
        "to": "support@acme.test",
        "from": "Jane <jane@example.com>",
        "subject": "Hi",
        "envelope": json.dumps({"to": ["support@acme.test"], "from": "jane@example.com"}),
        "charsets": json.dumps({"to": "UTF-8", "subject": "UTF-8", "from": "UTF-8"}),
    }
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"anymail:webhook-secret").decode()}
    with mock.patch.object(CursorWrapper, "execute", side_effect=OperationalError("gone")):
        response = client.post("/anymail/sendgrid/inbound/", payload, **auth)
    body = assert_error(response, 503)
    assert "nothing was saved" in body["message"]
    assert int(response["Retry-After"]) > 0


def test_the_readiness_check_reports_a_database_outage_as_503_and_liveness_stays_up(client, db):
    client.raise_request_exception = False
    with mock.patch.object(CursorWrapper, "execute", side_effect=OperationalError("gone")):
        ready = client.get("/readyz")
        alive = client.get("/healthz")
    # A load balancer reads the status: 503 takes the instance out of rotation for a while.
    assert ready.status_code == 503
    assert int(ready["Retry-After"]) > 0
    assert ready.json()["checks"]["database"]["status"] == "unavailable"
    # The process itself is fine: an orchestrator must not restart it for the database.
    assert alive.status_code == 200


# Redis down ----------------------------------------------------------------------------------


@pytest.fixture
def redis_down():
    # override_settings(CACHES=...) makes Django rebuild its cache handlers, both ways.
    with override_settings(CACHES=CLOSED_REDIS):
        yield


def test_redis_down_api_creates_still_succeed_and_the_throttle_still_holds(redis_down, api, inbox, settings):
    settings.API_THROTTLE_RATE = "3/min"
    responses = [
        api.post(
            "/api/v1/tickets",
            json.dumps(ticket_payload(customer={"email": f"c{n}@example.com"})),
            content_type="application/json",
        )
        for n in range(4)
    ]
    # The throttle counts in the database, so Redis being down neither fails nor frees it.
    assert [response.status_code for response in responses] == [201, 201, 201, 429]
    assert Ticket.objects.count() == 3


def test_redis_down_reads_still_answer(redis_down, api, ticket):
    response = api.get("/api/v1/tickets")
    assert response.status_code == 200
    assert response.json()["pagination"]["total"] == 1


def test_redis_down_agents_can_still_sign_in_and_the_lockout_still_holds(redis_down, client, agent, settings):
    settings.LOGIN_FAILURES_PER_EMAIL = 2
    response = client.post(
        "/accounts/login/", {"username": "agent@acme.test", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == agent.pk
    client.logout()
    # The lockout counts in the database: Redis being down does not open it.
    for _ in range(2):
        client.post("/accounts/login/", {"username": "agent@acme.test", "password": "wrong"})
    response = client.post(
        "/accounts/login/", {"username": "agent@acme.test", "password": "correct horse battery staple"}
    )
    assert response.status_code == 429


def test_redis_really_is_unreachable_in_these_tests(redis_down):
    from django.core.cache import cache

    with pytest.raises(Exception):  # noqa: B017,PT011 - redis' own ConnectionError
        cache.ping()
    assert cache.get("anything", "missed") == "missed"  # degraded: a miss, not an error


def test_users_table_untouched_by_faults_fixture(db):
    # Guard against the fixtures above leaking a broken cache into later tests.
    from django.core.cache import cache

    cache.set("probe", 1)
    assert cache.get("probe") == 1
    assert User.objects.count() == 0
