"""Erased data leaves the event feed too: a customer's erasure and the retention rule
empty the payloads of the events about them."""

import json

from django.core.management import call_command

from accounts.models import Organization
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.models import Ticket
from tickets.tests import factories
from webhooks.models import Event


def _feed_text() -> str:
    return " ".join(Event.objects.values_list("body", flat=True))


def test_erasing_a_customer_empties_the_feed_events_about_them(api, inbox, delivering):
    with delivering():
        ticket = factories.make_ticket(
            inbox, email="jane.roe@example.com", name="Jane Roe", subject="Pangolin", message="Quokka words"
        )
        ticket_services.add_message(
            ticket=ticket, body="More quokka", actor=Actor.for_customer(ticket.customer)
        )
        factories.make_ticket(inbox, email="bob@example.com", subject="Bob's own", message="Bob words")
    assert "jane.roe@example.com" in _feed_text() and "quokka" in _feed_text().lower()
    total = Event.objects.count()

    with delivering():
        assert api.post(f"/api/v1/customers/{ticket.customer.public_id}/erase").status_code == 200

    text = _feed_text().lower()
    for word in ("jane", "roe", "pangolin", "quokka"):
        assert word not in text, word
    assert "bob@example.com" in text
    assert Event.objects.count() >= total  # kept, with their type, id and time
    feed = api.get("/api/v1/events").json()["data"]
    redacted = [event for event in feed if event["data"] == {"redacted": True}]
    assert {event["type"] for event in redacted} >= {"customer.created", "ticket.created", "message.created"}
    assert all(event["actor"] is None and event["id"].startswith("evt_") for event in redacted)


def test_the_retention_rule_empties_the_feed_events_of_its_tickets(organization, inbox, delivering):
    with delivering():
        ticket = factories.make_ticket(inbox, subject="Capybara", message="Axolotl words")
        ticket = ticket_services.change_status(
            ticket=ticket, status=Ticket.Status.CLOSED, actor=Actor.system("Tests")
        )
    Ticket.objects.filter(pk=ticket.pk).update(closed_at=ticket.closed_at.replace(year=2000))
    Organization.objects.filter(pk=organization.pk).update(retention_days=30, retention_action="delete")
    assert "Capybara" in _feed_text()

    with delivering():
        call_command("apply_retention")

    assert not Ticket.objects.filter(pk=ticket.pk).exists()
    bodies = [
        json.loads(body)
        for body in Event.objects.filter(ordering_key=f"ticket:{ticket.pk}").values_list("body", flat=True)
    ]
    assert bodies and all(body["data"] == {"redacted": True} for body in bodies)
    assert "Axolotl" not in _feed_text() and "Capybara" not in _feed_text()
