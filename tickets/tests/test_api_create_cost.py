"""What one create through the native API costs in statements, and that the cheap answer is
the same answer.

These run outside a test transaction (``transaction=True``), as a request does in
production: create_ticket's transaction is then its own, and the statements counted are
those a server runs. The key is used once before each count, as a busy key is: its "last
used" time is written at most once a minute.
"""

import threading
import time

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from tickets import events
from tickets.models import Customer, Delivery, Ticket
from tickets.tests import factories
from tickets.tests.api_helpers import ticket_payload

pytestmark = pytest.mark.django_db(transaction=True)

# The API key, its rate window (one upsert, exact across workers), the inbox, BEGIN, the
# customer looked up, the customer inserted, the inbox's next number, the ticket, its first
# message, its audit event, COMMIT.
NEW_CUSTOMER_STATEMENTS = 11
# The same with the customer found: looked up, not inserted.
EXISTING_CUSTOMER_STATEMENTS = 10


@pytest.fixture
def heard(monkeypatch):
    """The domain events each create dispatches, heard by a recorder in place of the real
    subscribers, so the count below is the dispatch's own."""
    received = []
    for event_type in (events.TicketCreated, events.CustomerCreated, events.CustomerUpdated):
        monkeypatch.setitem(events._subscribers, event_type, [received.append])
    return received


@pytest.fixture
def warm_api(api):
    """The API client, its key already used once (so its "last used" write is done)."""
    response = api.post(
        "/api/v1/tickets", ticket_payload(customer={"email": "warm-up@example.com"}), format="json"
    )
    assert response.status_code == 201
    return api


def _sql(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries]


def test_a_first_contact_runs_eleven_statements_and_telling_its_events_adds_none(
    warm_api, inbox, heard, django_assert_max_num_queries
):
    heard.clear()
    with django_assert_max_num_queries(NEW_CUSTOMER_STATEMENTS) as captured:
        response = warm_api.post(
            "/api/v1/tickets", ticket_payload(customer={"email": "new@example.com"}), format="json"
        )

    assert response.status_code == 201, response.json()
    # The events were told after the commit, inside this request, and ran no statement.
    assert [event.name for event in heard] == ["customer.created", "ticket.created"]
    statements = _sql(captured)
    assert statements[-1] == "COMMIT"
    assert not any("SAVEPOINT" in sql for sql in statements)


def test_a_returning_customer_runs_ten_statements_and_telling_its_event_adds_none(
    warm_api, inbox, heard, django_assert_max_num_queries
):
    first = warm_api.post("/api/v1/tickets", ticket_payload(), format="json")
    heard.clear()

    with django_assert_max_num_queries(EXISTING_CUSTOMER_STATEMENTS) as captured:
        second = warm_api.post("/api/v1/tickets", ticket_payload(subject="Second question"), format="json")

    assert first.status_code == second.status_code == 201
    assert second.json()["customer"]["id"] == first.json()["customer"]["id"]
    assert [event.name for event in heard] == ["ticket.created"]
    assert _sql(captured)[-1] == "COMMIT"


def test_a_daily_limit_adds_only_the_customer_lock_and_the_count(
    organization, warm_api, heard, django_assert_max_num_queries
):
    limited = factories.make_inbox(organization, name="Paywall", prefix="PAY", daily_limit_per_customer=2)
    payload = ticket_payload(inbox=limited.public_id)
    assert warm_api.post("/api/v1/tickets", payload, format="json").status_code == 201

    with django_assert_max_num_queries(EXISTING_CUSTOMER_STATEMENTS + 2):
        second = warm_api.post("/api/v1/tickets", payload, format="json")
    third = warm_api.post("/api/v1/tickets", payload, format="json")

    assert second.status_code == 201
    assert third.status_code == 429


def test_the_answer_to_a_create_is_the_ticket_as_reading_it_shows(warm_api, inbox):
    created = warm_api.post(
        "/api/v1/tickets",
        ticket_payload(
            customer={"email": "jane@example.com", "name": "Jane", "metadata": {"plan": "pro"}},
            tags=["Billing", "refund"],
            metadata={"order_id": "A-1042"},
            priority="high",
        ),
        format="json",
    )

    read = warm_api.get(f"/api/v1/tickets/{created.json()['id']}")

    assert created.status_code == 201
    assert created.json() == read.json()
    assert created.json()["tags"] == ["Billing", "refund"]
    assert [message["body_html"] for message in created.json()["messages"]] == [
        "<p>I was charged twice for my subscription.</p>"
    ]


def test_a_replayed_create_answers_the_earlier_ticket_as_reading_it_shows(warm_api, inbox):
    payload = ticket_payload(tags=["billing"])
    first = warm_api.post("/api/v1/tickets", payload, format="json", HTTP_IDEMPOTENCY_KEY="order-7")
    warm_api.post(f"/api/v1/tickets/{first.json()['id']}/messages", {"body": "On it."}, format="json")

    replay = warm_api.post("/api/v1/tickets", payload, format="json", HTTP_IDEMPOTENCY_KEY="order-7")

    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == warm_api.get(f"/api/v1/tickets/{first.json()['id']}").json()
    assert [message["body"] for message in replay.json()["messages"]] == [
        "I was charged twice for my subscription.",
        "On it.",
    ]


def _wait_until_a_statement_waits_on_a_lock(cursor) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if cursor.fetchone()[0]:
            return
        time.sleep(0.01)
    raise AssertionError("no statement ever waited on the new customer's row")


@pytest.mark.postgres
def test_a_first_contact_that_loses_the_race_for_its_customer_is_run_again_and_joins_the_winner(
    organization, inbox, api_key
):
    """Another request inserts the same new customer and commits while this one's INSERT
    waits on the unique index: this one's transaction is rolled back and run again, and
    finds that customer."""
    inserted = threading.Event()

    def other_request() -> None:
        try:
            with transaction.atomic():
                Customer.objects.create(organization=organization, email="race@example.com", name="Winner")
                inserted.set()
                with connection.cursor() as cursor:
                    _wait_until_a_statement_waits_on_a_lock(cursor)
        finally:
            connection.close()

    winner = threading.Thread(target=other_request)
    winner.start()
    assert inserted.wait(timeout=30)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key)
    response = client.post(
        "/api/v1/tickets", ticket_payload(customer={"email": "race@example.com"}), format="json"
    )
    winner.join(timeout=30)

    assert response.status_code == 201, response.json()
    customer = Customer.objects.get(email="race@example.com")
    assert response.json()["customer"]["id"] == customer.public_id
    assert response.json()["customer"]["name"] == "Winner"
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.reference) == (customer, "INV-1")


def test_with_mail_on_a_create_adds_its_notification_task_inside_its_transaction(
    warm_api, inbox, settings, django_assert_max_num_queries
):
    # Production: notifications on, tasks in the database for the worker.
    settings.SUPPORT_EMAIL_SENDER = "smtp"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

    # The eleven statements and one task row (tickets/outbox.py: the copy to the support
    # address, the acknowledgement trigger's mail and its count of uses, and the events for
    # webhooks and the feed). The version of the organization's trigger rules comes with
    # its row (automation/services.py).
    with django_assert_max_num_queries(NEW_CUSTOMER_STATEMENTS + 1) as captured:
        response = warm_api.post(
            "/api/v1/tickets", ticket_payload(customer={"email": "mailed@example.com"}), format="json"
        )

    assert response.status_code == 201, response.json()
    statements = _sql(captured)
    commit = statements.index("COMMIT")
    in_transaction, after_commit = statements[:commit], statements[commit + 1 :]
    # Nothing is rendered or sent in the request: the notification and the webhook events
    # are one task row written before the COMMIT, so that they commit with the ticket or
    # not at all, and nothing is written after it.
    task_rows = [sql for sql in in_transaction if "dbtaskresult" in sql]
    assert len(task_rows) == 1 and task_rows[0].startswith("INSERT")
    assert "notify_ticket_created" in task_rows[0] and "record_domain_events" in task_rows[0]
    assert after_commit == []
    assert not Delivery.objects.exists()
