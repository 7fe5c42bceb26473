"""Domain events: what each service tells its subscribers, when, and at what cost."""

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tickets import events, notifications, services
from tickets.actors import Actor
from tickets.models import Ticket
from tickets.tests import factories


@pytest.fixture
def heard(monkeypatch):
    """Every event dispatched, in order, with every real subscriber replaced by a recorder."""
    received = []
    for event_type in (
        events.TicketCreated,
        events.TicketUpdated,
        events.TicketStatusChanged,
        events.TicketAssigned,
        events.MessageCreated,
        events.CustomerCreated,
        events.CustomerUpdated,
    ):
        monkeypatch.setitem(events._subscribers, event_type, [received.append])
    return received


def names(received) -> list[str]:
    return [event.name for event in received]


def test_creating_a_ticket_for_a_new_customer_tells_both_with_the_actor(
    inbox, heard, django_capture_on_commit_callbacks
):
    actor = Actor.system("Backend")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(inbox, email="new@example.test", actor=actor)

    assert names(heard) == ["customer.created", "ticket.created"]
    assert heard[1].ticket_id == ticket.pk
    assert heard[1].organization_id == inbox.organization_id
    assert all(event.actor == actor for event in heard)


def test_status_and_assignee_in_one_call_tell_each_change_and_one_update_with_before_and_after(
    inbox, agent, heard, django_capture_on_commit_callbacks
):
    ticket = factories.make_ticket(inbox)
    actor = Actor.agent(agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(ticket=ticket, actor=actor, status="resolved", assignee=agent, priority="high")

    assert names(heard) == ["ticket.assigned", "ticket.status_changed", "ticket.updated"]
    assigned, status_changed, updated = heard
    assert (assigned.before, assigned.after) == (None, agent.pk)
    assert (status_changed.before, status_changed.after) == ("open", "resolved")
    assert updated.changes == {
        "priority": ("normal", "high"),
        "assignee": (None, agent.pk),
        "status": ("open", "resolved"),
    }
    assert {event.actor for event in heard} == {actor}


def test_an_assignment_alone_moves_an_open_ticket_in_progress_and_says_so(
    inbox, agent, heard, django_capture_on_commit_callbacks
):
    ticket = factories.make_ticket(inbox)
    with django_capture_on_commit_callbacks(execute=True):
        services.assign(ticket=ticket, assignee=agent, actor=Actor.agent(agent))

    assert names(heard) == ["ticket.assigned", "ticket.status_changed", "ticket.updated"]
    assert heard[2].changes["status"] == ("open", "in_progress")


def test_a_reply_and_a_note_tell_whether_the_message_is_public(
    inbox, agent, heard, django_capture_on_commit_callbacks
):
    ticket = factories.make_ticket(inbox)
    with django_capture_on_commit_callbacks(execute=True):
        note, _ = services.add_message(
            ticket=ticket, body="Check Stripe.", kind="note", actor=Actor.agent(agent)
        )
        reply, _ = services.add_message(ticket=ticket, body="On it.", actor=Actor.agent(agent))

    messages = [event for event in heard if event.name == "message.created"]
    assert [(event.message_id, event.is_public) for event in messages] == [(note.pk, False), (reply.pk, True)]
    # The first public answer moves an open ticket on, told as a status change.
    assert "ticket.status_changed" in names(heard)


def test_updating_a_customer_tells_the_changed_fields(inbox, heard, django_capture_on_commit_callbacks):
    ticket = factories.make_ticket(inbox, email="jane@example.test")
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.update_customer(customer=ticket.customer, name="Jane Doe")

    assert names(heard) == ["customer.updated"]
    assert heard[0].changes == {"name": ("", "Jane Doe")}


def test_nothing_is_told_when_the_change_rolls_back(inbox, agent, heard, django_capture_on_commit_callbacks):
    ticket = factories.make_ticket(inbox)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            services.assign(ticket=ticket, assignee=agent, actor=Actor.agent(agent))
            raise RuntimeError("the request failed after the service call")

    assert heard == []


def test_an_unchanged_ticket_tells_nothing(inbox, heard, django_capture_on_commit_callbacks):
    ticket = factories.make_ticket(inbox)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_ticket(ticket=ticket, actor=Actor.system(), status="open", priority="normal")

    assert heard == []


def test_dispatch_and_the_real_subscribers_run_no_query_and_only_enqueue_tasks(
    inbox, agent, settings, django_capture_on_commit_callbacks
):
    settings.SUPPORT_EMAIL_SENDER = "console"
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    # The live-update versions are bumped in the shared cache: Redis in production (no SQL),
    # here process memory; the no-install database cache would make them queries.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    backend = notifications.notify_ticket_created.get_backend()
    backend.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket = factories.make_ticket(inbox)
        services.update_ticket(ticket=ticket, actor=Actor.system("Tests"), assignee=agent)
        services.add_message(ticket=ticket, body="Done.", actor=Actor.agent(agent))
        services.update_ticket(ticket=ticket, actor=Actor.agent(agent), status="resolved")

    with CaptureQueriesContext(connection) as queries:
        for callback in callbacks:
            callback()

    assert [query["sql"] for query in queries] == []
    # Each service call's tasks are one outbox task (tickets/outbox.py), with the events
    # for webhooks and the feed beside the notifications; the acknowledgement is the
    # organization's trigger's mail (the automation app).
    names = factories.enqueued_task_names(backend)
    assert [name for name in names if name.startswith("notify_")] == [
        "notify_ticket_created",
        "notify_trigger_email",
        "notify_assignee",
        "notify_message_created",
        "notify_status_changed",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_failing_subscriber_never_fails_the_request_and_the_others_still_hear(
    inbox, api_key, monkeypatch, caplog
):
    heard = []

    def broken(event):
        raise RuntimeError("webhook endpoint exploded")

    monkeypatch.setitem(events._subscribers, events.TicketCreated, [broken, heard.append])
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=api_key)

    response = client.post(
        "/api/v1/tickets",
        json.dumps(
            {
                "customer": {"email": "jane@example.test"},
                "subject": "Cannot log in",
                "message": "Help me please.",
            }
        ),
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    assert Ticket.objects.count() == 1
    assert [event.ticket_id for event in heard] == [Ticket.objects.get().pk]
    assert "webhook endpoint exploded" in caplog.text
