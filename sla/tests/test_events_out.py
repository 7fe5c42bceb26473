"""The SLA and satisfaction domain events reach the other subscribers: a webhook endpoint
subscribed to ``sla.warning``, ``sla.breached`` or ``satisfaction.rated`` receives them
signed like every other event (and the feed lists them), and a trigger can wait for
``sla.warning`` or ``sla.breached``."""

from datetime import UTC, datetime, timedelta

import pytest

from automation.models import Trigger
from sla import escalation, satisfaction
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.models import Tag, TicketEvent
from tickets.tests import factories
from webhooks.tests.receiver import Receiver

NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def loopback_receivers_allowed(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.SUPPORT_EMAIL_SENDER = "console"


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def policy(make_policy):
    return make_policy(
        targets={"first_reply_minutes": 60, "resolution_minutes": 600},
        escalation={"warning_percent": 80},
    )


@pytest.fixture
def at_now(time_machine):
    time_machine.move_to(NOW, tick=False)


def escalate(at, capture):
    with capture(execute=True):
        return escalation.escalate_due(now=at)


def test_an_endpoint_subscribed_to_sla_events_receives_the_warning_and_the_breach_signed(
    api, inbox, policy, receiver, at_now, django_capture_on_commit_callbacks
):
    response = api.post(
        "/api/v1/webhooks", {"url": receiver.url, "events": ["sla.warning", "sla.breached"]}, format="json"
    )
    assert response.status_code == 201, response.content
    secret = response.json()["secret"]
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(inbox, subject="Printer on fire")

    assert escalate(NOW + timedelta(minutes=48), django_capture_on_commit_callbacks) == 1
    assert escalate(NOW + timedelta(minutes=61), django_capture_on_commit_callbacks) == 1

    # ticket.created was not asked for; the two SLA events came, in order, each signed.
    assert receiver.types == ["sla.warning", "sla.breached"]
    warning, breach = (request.verify(secret) for request in receiver.received)
    assert warning["actor"] == {"type": "system", "id": None, "name": "Service levels"}
    assert warning["data"]["target"] == "first_reply"
    assert warning["data"]["due_at"] == "2026-03-04T10:00:00Z"
    assert warning["data"]["ticket"]["id"] == ticket.public_id
    assert breach["data"]["target"] == "first_reply"
    assert breach["data"]["ticket"]["sla"]["breached"] == ["first_reply"]

    feed = api.get("/api/v1/events?types=sla.breached").json()["data"]
    assert [event["type"] for event in feed] == ["sla.breached"]
    assert feed[0]["data"]["due_at"] == "2026-03-04T10:00:00Z"


def test_an_endpoint_subscribed_to_satisfaction_receives_each_rating(
    api, inbox, agent, receiver, at_now, django_capture_on_commit_callbacks
):
    response = api.post(
        "/api/v1/webhooks", {"url": receiver.url, "events": ["satisfaction.rated"]}, format="json"
    )
    assert response.status_code == 201, response.content
    secret = response.json()["secret"]
    ticket = factories.make_ticket(inbox, email="carla@example.test")
    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), status="resolved")
    customer = Actor.for_customer(ticket.customer)

    with django_capture_on_commit_callbacks(execute=True):
        satisfaction.rate(ticket=ticket, rating="bad", comment="Took a week.", actor=customer)
    with django_capture_on_commit_callbacks(execute=True):
        satisfaction.rate(ticket=ticket, rating="good", comment="Sorted in the end.", actor=customer)

    assert receiver.types == ["satisfaction.rated", "satisfaction.rated"]
    first, second = (request.verify(secret) for request in receiver.received)
    assert first["actor"]["type"] == "customer"
    assert (first["data"]["rating"], first["data"]["comment"]) == ("bad", "Took a week.")
    assert (second["data"]["rating"], second["data"]["comment"]) == ("good", "Sorted in the end.")
    assert second["data"]["ticket"]["satisfaction"]["rating"] == "good"


def test_an_unknown_event_type_is_still_refused_and_the_new_ones_are_listed(api):
    response = api.post(
        "/api/v1/webhooks", {"url": "http://127.0.0.1:9/hooks", "events": ["sla.late"]}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["details"][0]["field"].startswith("events")
    assert "sla.breached" in body["details"][0]["message"]
    assert "satisfaction.rated" in body["details"][0]["message"]


def test_a_trigger_waiting_for_sla_breached_acts_once_when_the_breach_fires(
    api, inbox, make_policy, at_now, django_capture_on_commit_callbacks
):
    make_policy(
        targets={"first_reply_minutes": 60},
        escalation={"warning_percent": 80, "raise_priority_to": "urgent"},
    )
    response = api.post(
        "/api/v1/triggers",
        {
            "name": "Breaches go to the top",
            "event": "sla.breached",
            "conditions": {"all": [], "any": []},
            "actions": [
                {"type": "set_priority", "value": "critical"},
                {"type": "add_tags", "value": ["escalated"]},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    ticket = factories.make_ticket(inbox)

    escalate(NOW + timedelta(minutes=48), django_capture_on_commit_callbacks)  # the warning
    ticket.refresh_from_db()
    assert ticket.priority == "normal"
    assert not ticket.tags.exists()

    escalate(NOW + timedelta(minutes=61), django_capture_on_commit_callbacks)
    ticket.refresh_from_db()
    # The trigger's critical stands: the policy's "raise to urgent" never lowers it.
    assert ticket.priority == "critical"
    assert list(ticket.tags.values_list("name", flat=True)) == ["escalated"]
    assert TicketEvent.objects.filter(ticket=ticket, actor_label="Trigger: Breaches go to the top").exists()
    # The breach's markers were stored before the trigger ran: nothing fires twice.
    assert "first_reply:breach" in ticket.sla_fired
    assert escalate(NOW + timedelta(minutes=90), django_capture_on_commit_callbacks) == 0
    assert Trigger.objects.get(name="Breaches go to the top").fired_count == 1


def test_a_trigger_waiting_for_sla_warning_adds_a_note_before_the_breach(
    api, inbox, policy, at_now, django_capture_on_commit_callbacks
):
    response = api.post(
        "/api/v1/triggers",
        {
            "name": "Heads up",
            "event": "sla.warning",
            "conditions": {"all": [{"field": "priority", "op": "is", "value": "normal"}], "any": []},
            "actions": [{"type": "add_note", "value": "The first reply is due soon."}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    ticket = factories.make_ticket(inbox)

    escalate(NOW + timedelta(minutes=48), django_capture_on_commit_callbacks)
    notes = ticket.messages.filter(kind="note")
    assert list(notes.values_list("body", flat=True)) == ["The first reply is due soon."]

    escalate(NOW + timedelta(minutes=61), django_capture_on_commit_callbacks)
    assert notes.count() == 1
    assert not Tag.objects.filter(name="escalated").exists()
