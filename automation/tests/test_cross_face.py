"""A trigger fires the same whatever face opened the ticket: the native API, each dialect,
the support form and email. Conditions and actions in one table, faces in another."""

import base64
import json
from email.message import EmailMessage
from email.utils import formatdate

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import CustomerToken
from automation import services
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("Tests")
WEBHOOK_AUTH = "anymail:webhook-secret"
SUBJECT = "Refund for order 1042"
BODY = "I was charged twice for my refund order."


@pytest.fixture(autouse=True)
def fresh(settings, tmp_path):
    cache.clear()
    services._compiled.clear()
    settings.MEDIA_ROOT = tmp_path
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    settings.SUPPORT_EMAIL_SENDER = "console"
    settings.SUPPORT_EMAIL = "support@acme.test"
    settings.DEFAULT_FROM_EMAIL = "helpdesk@acme.test"
    settings.INBOUND_EMAIL_DOMAIN = "reply.acme.test"
    settings.DELIVERY_INLINE_RETRY_SECONDS = 0
    settings.ANYMAIL = {"WEBHOOK_SECRET": [WEBHOOK_AUTH]}


@pytest.fixture
def world(organization, inbox, api_key):
    inbox.support_email = "help@acme.test"
    inbox.support_email_verified_at = inbox.created_at
    inbox.save(update_fields=["support_email", "support_email_verified_at"])
    customer, _ = ticket_services.upsert_customer(
        organization=organization,
        data=ticket_services.CustomerData(email="jane@example.com", external_id="user_42", name="Jane"),
        actor=SYSTEM,
    )
    return {"organization": organization, "inbox": inbox, "api_key": api_key, "customer": customer}


def _key(world, header="X-API-Key"):
    client = APIClient()
    if header == "Bearer":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world['api_key']}")
    else:
        client.credentials(HTTP_X_API_KEY=world["api_key"])
    return client


def native(world):
    body = {"customer": {"email": "jane@example.com"}, "subject": SUBJECT, "message": BODY}
    assert _key(world).post("/api/v1/tickets", body, format="json").status_code == 201


def appbox(world):
    url = f"/compat/appbox/api/v1/paywall/{world['inbox'].public_id}/create-ticket"
    body = {"email": "jane@example.com", "subject": SUBJECT, "message": BODY}
    assert _key(world).post(url, body, format="json").status_code == 201


def ctxfy(world):
    body = {"type": "Refund for order 1042", "reply_address": "jane@example.com", "message": BODY}
    response = _key(world, "Bearer").post("/compat/ctxfy/v1/support/tickets", body, format="json")
    assert response.status_code == 201, response.json()


def supportdesk(world):
    body = {"customerExternalId": "user_42", "subject": SUBJECT, "description": BODY, "priority": "MEDIUM"}
    response = _key(world).post("/compat/supportdesk/api/v1/tickets/api-create", body, format="json")
    assert response.status_code == 201, response.json()


def crawlchat(world):
    body = {"userEmail": "jane@example.com", "title": SUBJECT, "message": BODY}
    url = f"/compat/crawlchat/ticket/{world['inbox'].public_id}"
    assert _key(world).post(url, body, format="json").status_code == 201


def inapp(world):
    token = CustomerToken(organization=world["organization"], customer=world["customer"])
    secret = token.assign_secret()
    token.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    body = {"subject": SUBJECT, "body": BODY, "category": "billing", "priority": "normal"}
    response = client.post("/compat/inapp/v1/support/tickets", body, format="json")
    assert response.status_code == 201, response.json()


def support_form(world):
    data = {"email": "jane@example.com", "name": "Jane", "subject": SUBJECT, "message": BODY, "website": ""}
    assert Client().post(f"/t/new/{world['inbox'].public_id}/", data).status_code == 302


def email(world):
    message = EmailMessage()
    message["From"] = "Jane <jane@example.com>"
    message["To"] = "help@acme.test"
    message["Subject"] = SUBJECT
    message["Date"] = formatdate()
    message["Message-ID"] = "<new-1@example.com>"
    message.set_content(BODY)
    payload = {
        "email": message.as_string(),
        "to": message["To"],
        "from": message["From"],
        "subject": SUBJECT,
        "envelope": json.dumps({"to": ["help@acme.test"], "from": "jane@example.com"}),
        "charsets": json.dumps({"to": "UTF-8", "subject": "UTF-8", "from": "UTF-8"}),
    }
    auth = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(WEBHOOK_AUTH.encode()).decode()}
    assert Client().post("/anymail/sendgrid/inbound/", payload, **auth).status_code == 200


FACES = [native, appbox, ctxfy, supportdesk, crawlchat, inapp, support_form, email]

RULES = [
    # (conditions, actions, what the ticket then shows)
    (
        {"all": [{"field": "subject", "op": "contains", "value": "refund"}]},
        [{"type": "set_priority", "value": "urgent"}],
        lambda ticket: ticket.priority == "urgent",
    ),
    (
        {"all": [{"field": "body", "op": "contains", "value": "charged twice"}]},
        [{"type": "add_tags", "value": ["billing"]}],
        lambda ticket: [tag.name for tag in ticket.tags.all()] == ["billing"],
    ),
    (
        {"all": [{"field": "status", "op": "is", "value": "open"}], "any": []},
        [{"type": "add_note", "value": "Seen by a trigger"}],
        lambda ticket: ticket.messages.filter(kind="note", body="Seen by a trigger").count() == 1,
    ),
    (
        {"all": [{"field": "customer.metadata.plan", "op": "is_not_set"}]},
        [{"type": "set_custom_field", "field": "order_id", "value": "A-1042"}],
        lambda ticket: ticket.custom_fields == {"order_id": "A-1042"},
    ),
]


@pytest.mark.parametrize("face", FACES, ids=[face.__name__ for face in FACES])
@pytest.mark.parametrize("rule", range(len(RULES)))
def test_cross_face_trigger_fires_the_same_for_a_ticket_from_every_face(
    world, face, rule, django_capture_on_commit_callbacks
):
    conditions, actions, shows = RULES[rule]
    ticket_services.create_custom_field(
        organization=world["organization"], actor=SYSTEM, key="order_id", label="Order", type="text"
    )
    services.create_trigger(
        organization=world["organization"],
        actor=SYSTEM,
        name="Cross face",
        event="ticket.created",
        conditions=conditions,
        actions=actions,
    )
    with django_capture_on_commit_callbacks(execute=True):
        face(world)
    ticket = Ticket.objects.get()
    assert shows(ticket), face.__name__
    assert TicketEvent.objects.filter(ticket=ticket, actor_label="Trigger: Cross face").exists() or rule == 2


@pytest.mark.parametrize("face", FACES, ids=[face.__name__ for face in FACES])
def test_cross_face_trigger_made_through_the_api_changes_the_ticket(
    world, face, django_capture_on_commit_callbacks
):
    body = {
        "name": "Refunds are urgent",
        "event": "ticket.created",
        "conditions": {"all": [{"field": "subject", "op": "contains", "value": "refund"}], "any": []},
        "actions": [{"type": "set_priority", "value": "urgent"}, {"type": "add_tags", "value": ["billing"]}],
    }
    assert _key(world).post("/api/v1/triggers", body, format="json").status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        face(world)
    ticket = Ticket.objects.get()
    assert ticket.priority == "urgent"
    assert [tag.name for tag in ticket.tags.all()] == ["billing"]


# Every other condition and action, across the same faces. Each row builds its trigger for
# the world and the face (a dialect condition names the face's own dialect), and says what
# the ticket, the mail, the bell or the webhook feed then shows.

DIALECT_FACES = {"appbox", "ctxfy", "supportdesk", "crawlchat", "inapp"}


def _dialect_is_the_faces(world, face):
    if face in DIALECT_FACES:
        return {"field": "dialect", "op": "is", "value": face}
    return {"field": "dialect", "op": "not_in", "value": sorted(DIALECT_FACES)}


def _mailed_the_customer(world, ticket):
    from django.core import mail

    subject = ticket.subject
    return any(
        message.to == ["jane@example.com"] and message.subject == f"[{ticket.reference}] About {subject}"
        for message in mail.outbox
    )


def _notified(world, ticket):
    from tickets.models import Notification

    return Notification.objects.filter(user=world["agents"][0], ticket=ticket, text__contains="Look").exists()


def _webhook_event(world, ticket):
    from webhooks.models import Event

    return any(
        json.loads(event.body)["data"]["label"] == "refund.requested"
        and json.loads(event.body)["data"]["ticket"]["id"] == ticket.public_id
        for event in Event.objects.filter(type="trigger.fired")
    )


EVERY_RULE = {
    "inbox_and_channel": (
        lambda world, face: {
            "all": [
                {"field": "inbox", "op": "is", "value": world["inbox"].public_id},
                {"field": "channel", "op": "in", "value": ["api", "web", "email"]},
            ]
        },
        [{"type": "set_status", "value": "pending"}],
        lambda world, ticket: ticket.status == "pending",
    ),
    "dialect": (
        lambda world, face: {"all": [_dialect_is_the_faces(world, face)]},
        [{"type": "set_tags", "value": ["seen", "dialect"]}],
        lambda world, ticket: sorted(tag.name for tag in ticket.tags.all()) == ["dialect", "seen"],
    ),
    "priority_and_tags": (
        lambda world, face: {
            "all": [
                {"field": "priority", "op": "is_not", "value": "urgent"},
                {"field": "tags", "op": "not_contains", "value": ["vip"]},
            ]
        },
        [{"type": "add_tags", "value": ["keep", "drop"]}, {"type": "remove_tags", "value": ["drop"]}],
        lambda world, ticket: [tag.name for tag in ticket.tags.all()] == ["keep"],
    ),
    "assignee_unset_any_group": (
        lambda world, face: {
            "all": [{"field": "assignee", "op": "is_not_set"}],
            "any": [
                {"field": "subject", "op": "contains", "value": "no such phrase"},
                {"field": "custom_fields.order_id", "op": "is_not_set"},
            ],
        },
        lambda world: [{"type": "set_assignee", "value": world["agents"][0].email}],
        lambda world, ticket: ticket.assignee == world["agents"][0],
    ),
    "business_hours_inside": (
        lambda world, face: {"all": [{"field": "business_hours", "op": "is", "value": "inside"}]},
        lambda world: [{"type": "set_inbox", "value": world["sales"].public_id}],
        lambda world, ticket: ticket.inbox == world["sales"] and ticket.reference == "SAL-1",
    ),
    "round_robin": (
        lambda world, face: {"all": [{"field": "subject", "op": "contains", "value": "order 1042"}]},
        lambda world: [{"type": "assign_round_robin", "value": [agent.pk for agent in world["agents"]]}],
        lambda world, ticket: ticket.assignee == world["agents"][0],
    ),
    "least_loaded": (
        lambda world, face: {"all": [{"field": "subject", "op": "not_contains", "value": "invoice"}]},
        lambda world: [{"type": "assign_least_loaded", "value": [agent.pk for agent in world["agents"]]}],
        lambda world, ticket: ticket.assignee in world["agents"],
    ),
    "email_customer": (
        lambda world, face: {"all": [{"field": "status", "op": "in", "value": ["open", "in_progress"]}]},
        [
            {
                "type": "email_customer",
                "subject": "About {{ ticket_subject }}",
                "body": "Hi {{ customer_name }}.",
            }
        ],
        _mailed_the_customer,
    ),
    "notify_agents": (
        lambda world, face: {"all": [{"field": "customer.metadata.plan", "op": "is_not_set"}]},
        lambda world: [{"type": "notify_agents", "value": [world["agents"][0].pk], "message": "Look"}],
        _notified,
    ),
    "emit_webhook": (
        lambda world, face: {"all": [{"field": "body", "op": "contains", "value": "CHARGED TWICE"}]},
        [{"type": "emit_webhook", "value": "refund.requested"}],
        _webhook_event,
    ),
}


@pytest.mark.parametrize("face", FACES, ids=[face.__name__ for face in FACES])
@pytest.mark.parametrize("rule", sorted(EVERY_RULE))
def test_cross_face_every_condition_and_action(world, face, rule, django_capture_on_commit_callbacks):
    from django.core import mail

    from tickets.tests import factories

    conditions, actions, shows = EVERY_RULE[rule]
    # N2 agents, so that nothing but the trigger assigns (SupportDesk assigns an available N1).
    world["agents"] = [
        factories.make_agent(world["organization"], email=f"group{index}@acme.test", tier="n2")
        for index in range(2)
    ]
    world["sales"] = factories.make_inbox(world["organization"], name="Sales", prefix="SAL")
    ticket_services.create_custom_field(
        organization=world["organization"], actor=SYSTEM, key="order_id", label="Order", type="text"
    )
    services.create_trigger(
        organization=world["organization"],
        actor=SYSTEM,
        name="Every rule",
        event="ticket.created",
        conditions=conditions(world, face.__name__),
        actions=actions(world) if callable(actions) else actions,
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        face(world)
    ticket = Ticket.objects.get()
    assert shows(world, ticket), (face.__name__, rule)
    assert services.Trigger.objects.get(name="Every rule").fired_count == 1
