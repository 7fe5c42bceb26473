"""What webhooks add to the request that makes a change: no statement (their events join
the change's one task row, tickets/outbox.py), no HTTP, however many endpoints listen.

Outside a test transaction (``transaction=True``), with the database task backend, as in
production: the statements counted are those a server runs.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from tickets import events
from tickets.tests.api_helpers import ticket_payload
from webhooks import subscribers
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def _create_statements(api, email: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.post("/api/v1/tickets", ticket_payload(customer={"email": email}), format="json")
    assert response.status_code == 201
    return len(captured.captured_queries)


def test_a_create_with_five_endpoints_adds_no_statement_and_sends_nothing(
    api, organization, inbox, receiver, database_tasks, monkeypatch
):
    _create_statements(api, "warm-up@example.com")  # the key's "last used" write is done
    without_webhooks = {
        event_type: [s for s in subs if s is not subscribers.on_domain_event]
        for event_type, subs in events._subscribers.items()
    }
    with monkeypatch.context() as patched:
        for event_type, subs in without_webhooks.items():
            patched.setitem(events._subscribers, event_type, subs)
        baseline = _create_statements(api, "first@example.com")

    for number in range(5):
        WebhookEndpoint.objects.create(
            organization=organization,
            url=f"{receiver.url}/{number}",
            events=["*"],
            secret=f"whsec_{'A' * 43}=",
        )
    DBTaskResult.objects.all().delete()
    with_webhooks = _create_statements(api, "second@example.com")  # customer.created + ticket.created

    # The events join the change's one task row (tickets/outbox.py), which the create
    # writes anyway (the acknowledgement trigger's count of uses).
    assert with_webhooks == baseline
    assert receiver.received == []  # nothing sent in the request
    (task,) = DBTaskResult.objects.all()  # both events in one task, for a worker
    assert task.task_path == "tickets.outbox.run"
    by_task = dict(task.args_kwargs["args"][0])
    assert [record["type"] for record in by_task["webhooks.subscribers.record_domain_events"][0]] == [
        "customer.created",
        "ticket.created",
    ]
    assert not WebhookDelivery.objects.exists()
