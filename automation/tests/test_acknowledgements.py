# ruff: noqa: F811 - the cross-face fixtures, imported, are parameters here
"""The acknowledgement ("We received your request") is a default trigger of every
organization, one per channel: on for the support form, email, the API and agents; off
for SupportDesk, whose document promises mail to the agent only."""

import pytest
from django.core import mail

from accounts.models import User
from accounts.services import create_organization
from automation import services
from automation.models import Trigger
from automation.tests.test_cross_face import (  # noqa: F401 - fixtures
    appbox,
    email,
    fresh,
    native,
    support_form,
    supportdesk,
    world,
)
from tickets.actors import Actor
from tickets.models import Delivery, Ticket

pytestmark = pytest.mark.django_db

CUSTOMER = "jane@example.com"
SUPPORT_COPY = "help@acme.test"


def to_customer():
    return [message for message in mail.outbox if message.to == [CUSTOMER]]


def create(face, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        face(world)
    return Ticket.objects.get()


@pytest.mark.parametrize("face", [support_form, email, native, appbox], ids=lambda face: face.__name__)
def test_a_new_ticket_from_the_support_form_email_or_the_api_acknowledges_the_customer(
    world, face, django_capture_on_commit_callbacks
):
    ticket = create(face, world, django_capture_on_commit_callbacks)

    [acknowledgement] = to_customer()
    assert acknowledgement.subject.startswith(f"[{ticket.reference}] We received your request")
    assert "we received your request and will answer as soon as we can" in acknowledgement.body
    assert ticket.private_url in acknowledgement.body
    html = acknowledgement.alternatives[0][0]
    assert "View your ticket" in html and ticket.reference in html
    assert Delivery.objects.get(ticket=ticket, recipient=CUSTOMER).kind == Delivery.Kind.CONFIRMATION


def test_a_supportdesk_ticket_mails_the_agent_only_never_the_customer(
    world, django_capture_on_commit_callbacks
):
    ticket = create(supportdesk, world, django_capture_on_commit_callbacks)

    assert to_customer() == []
    assert [message.to for message in mail.outbox] == [[SUPPORT_COPY]]
    assert ticket.dialect == "supportdesk"
    assert not Delivery.objects.filter(ticket=ticket, kind=Delivery.Kind.CONFIRMATION).exists()


def test_turning_the_acknowledgement_on_for_supportdesk_mails_its_customers(
    world, api, django_capture_on_commit_callbacks
):
    trigger = Trigger.objects.get(organization=world["organization"], name="Acknowledge SupportDesk requests")
    response = api.patch(f"/api/v1/triggers/{trigger.pk}", {"active": True}, format="json")
    assert response.status_code == 200, response.json()

    create(supportdesk, world, django_capture_on_commit_callbacks)

    assert len(to_customer()) == 1


def test_a_disabled_acknowledgement_sends_nothing_to_the_customer(
    world, api, django_capture_on_commit_callbacks
):
    trigger = Trigger.objects.get(
        organization=world["organization"], name="Acknowledge support form requests"
    )
    response = api.patch(f"/api/v1/triggers/{trigger.pk}", {"active": False}, format="json")
    assert response.status_code == 200, response.json()

    ticket = create(support_form, world, django_capture_on_commit_callbacks)

    assert to_customer() == []
    assert [message.to for message in mail.outbox] == [[SUPPORT_COPY]]
    assert ticket.channel == "web"


def test_an_edited_acknowledgement_sends_its_own_words(world, api, django_capture_on_commit_callbacks):
    trigger = Trigger.objects.get(organization=world["organization"], name="Acknowledge email requests")
    actions = [
        {
            "type": "email_customer",
            "subject": "Thanks, {{ customer_name }} ({{ ticket_reference }})",
            "body": "We answer within a day. Follow it here: {{ private_url }}",
        }
    ]
    response = api.patch(f"/api/v1/triggers/{trigger.pk}", {"actions": actions}, format="json")
    assert response.status_code == 200, response.json()

    ticket = create(email, world, django_capture_on_commit_callbacks)

    [acknowledgement] = to_customer()
    assert acknowledgement.subject == f"[{ticket.reference}] Thanks, Jane ({ticket.reference})"
    assert "We answer within a day" in acknowledgement.body
    assert "we received your request" not in acknowledgement.body
    assert "We answer within a day" in acknowledgement.alternatives[0][0]


def test_a_new_organization_starts_with_the_acknowledgements_supportdesk_off(db):
    staff = User.objects.create_user(email="staff@example.com", password="x", is_staff=True)
    organization = create_organization(actor=Actor.agent(staff), name="Initech", slug="initech")

    triggers = {trigger.name: trigger for trigger in Trigger.objects.filter(organization=organization)}
    assert {name: trigger.active for name, trigger in triggers.items()} == {
        name: active for name, _, active in services.DEFAULT_TRIGGERS
    }
    assert triggers["Acknowledge SupportDesk requests"].active is False
    assert all(trigger.event == "ticket.created" for trigger in triggers.values())
    assert all(
        trigger.actions == [{"type": "email_customer", "template": "acknowledgement"}]
        for trigger in triggers.values()
    )
    organization.refresh_from_db()
    assert organization.automation_version


def test_the_acknowledgements_are_listed_and_editable_in_the_api(world, api):
    listed = {item["name"]: item for item in api.get("/api/v1/triggers").json()}
    assert listed["Acknowledge support form requests"]["active"] is True
    assert listed["Acknowledge SupportDesk requests"]["active"] is False
    assert listed["Acknowledge API requests"]["conditions"]["all"] == [
        {"field": "channel", "op": "is", "value": "api"},
        {"field": "dialect", "op": "is_not", "value": "supportdesk"},
    ]
