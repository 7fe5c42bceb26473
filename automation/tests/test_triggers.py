"""Triggers: the API, each condition and action, the events they wait for, one pass
without loops, and what they cost a ticket create."""

import json

import pytest
from django.core import mail
from django.core.cache import cache

from accounts.models import User
from automation import services
from automation.models import Trigger
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.models import Message, Notification, TicketEvent
from tickets.tests import factories
from tickets.tests.admin_helpers import admin_url, browser_form
from tickets.tests.api_helpers import assert_error, ticket_payload

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("Tests")
DEFAULT_TRIGGER_NAMES = [name for name, _, _ in services.DEFAULT_TRIGGERS]

ISSUE_BODY = {
    "name": "Refunds are urgent",
    "active": True,
    "position": 1,
    "event": "ticket.created",
    "conditions": {"all": [{"field": "subject", "op": "contains", "value": "refund"}], "any": []},
    "actions": [{"type": "set_priority", "value": "urgent"}, {"type": "add_tags", "value": ["billing"]}],
}


@pytest.fixture(autouse=True)
def fresh_rule_cache():
    cache.clear()
    services._compiled.clear()


def make_trigger(organization, *, name="Rule", event="ticket.created", all=(), any=(), actions, **fields):  # noqa: A002
    return services.create_trigger(
        organization=organization,
        actor=SYSTEM,
        name=name,
        event=event,
        conditions={"all": list(all), "any": list(any)},
        actions=actions,
        **fields,
    )


def urgent(**condition):
    return {"actions": [{"type": "set_priority", "value": "urgent"}], "all": [condition]}


# The API ----------------------------------------------------------------------------------


def test_trigger_created_through_the_api_changes_the_next_ticket(api, organization, inbox):
    response = api.post("/api/v1/triggers", ISSUE_BODY, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    for name in ("name", "active", "position", "event", "conditions", "actions"):
        assert body[name] == ISSUE_BODY[name]

    created = api.post("/api/v1/tickets", ticket_payload(subject="Refund please"), format="json").json()
    assert created["priority"] == "urgent"
    assert created["tags"] == ["billing"]
    events = TicketEvent.objects.filter(
        ticket__public_id=created["id"], actor_label="Trigger: Refunds are urgent"
    )
    assert {event.field for event in events} == {"priority", "tags"}

    other = api.post("/api/v1/tickets", ticket_payload(subject="Hello there"), format="json").json()
    assert other["priority"] == "normal" and other["tags"] == []


def test_trigger_is_listed_changed_and_deleted_through_the_api(api, organization, inbox):
    trigger_id = api.post("/api/v1/triggers", ISSUE_BODY, format="json").json()["id"]
    # The organization's own rules first, then its acknowledgements (positions 1000 on).
    names = [item["name"] for item in api.get("/api/v1/triggers").json()]
    assert names == ["Refunds are urgent", *DEFAULT_TRIGGER_NAMES]
    response = api.patch(f"/api/v1/triggers/{trigger_id}", {"active": False, "name": "Off"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["active"] is False
    created = api.post("/api/v1/tickets", ticket_payload(subject="Refund please"), format="json").json()
    assert created["priority"] == "normal"
    assert api.delete(f"/api/v1/triggers/{trigger_id}").status_code == 204
    assert not Trigger.objects.filter(pk=trigger_id).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event": "ticket.exploded"}, "event"),
        (
            {"conditions": {"all": [{"field": "colour", "op": "is", "value": "red"}]}},
            "conditions.all[0].field",
        ),
        (
            {"conditions": {"all": [{"field": "priority", "op": "is", "value": "meh"}]}},
            "conditions.all[0].value",
        ),
        ({"conditions": {"any": [{"field": "subject", "op": "gt", "value": "a"}]}}, "conditions.any[0].op"),
        (
            {"conditions": {"all": [{"field": "custom_fields.nope", "op": "is", "value": 1}]}},
            "conditions.all[0].field",
        ),
        ({"actions": []}, "actions"),
        ({"actions": [{"type": "explode"}]}, "actions[0].type"),
        ({"actions": [{"type": "set_priority", "value": "meh"}]}, "actions[0].value"),
        ({"actions": [{"type": "set_assignee", "value": "nobody@example.com"}]}, "actions[0].value"),
        ({"actions": [{"type": "add_note", "value": "{% if %}"}]}, "actions[0].value"),
        # Tags that reach beyond the text parse, then fail every ticket the trigger meets.
        ({"actions": [{"type": "add_note", "value": 'See {% include "a.html" %}'}]}, "actions[0].value"),
        ({"actions": [{"type": "add_note", "value": "{% url 'x' %}"}]}, "actions[0].value"),
        (
            {"actions": [{"type": "email_customer", "subject": "Hi", "body": '{% extends "a" %}'}]},
            "actions[0].body",
        ),
        ({"actions": [{"type": "email_customer", "subject": "Hi"}]}, "actions[0].body"),
        ({"actions": [{"type": "emit_webhook", "value": "has spaces"}]}, "actions[0].value"),
    ],
)
def test_bad_trigger_is_a_400_naming_the_field_and_saves_nothing(api, inbox, change, field):
    assert_error(api.post("/api/v1/triggers", {**ISSUE_BODY, **change}, format="json"), 400, field)
    assert not Trigger.objects.exclude(name__in=DEFAULT_TRIGGER_NAMES).exists()


def test_triggers_are_an_admins_business(organization, agent, owner, other_organization):
    from rest_framework.test import APIClient

    theirs = make_trigger(other_organization, actions=[{"type": "set_priority", "value": "low"}])
    agent_client, owner_client = APIClient(), APIClient()
    agent_client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.make_agent_token(agent)[1]}")
    owner_client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.make_agent_token(owner)[1]}")
    assert_error(agent_client.post("/api/v1/triggers", ISSUE_BODY, format="json"), 403)
    assert agent_client.get("/api/v1/triggers").json() == []
    assert owner_client.post("/api/v1/triggers", ISSUE_BODY, format="json").status_code == 201
    assert owner_client.get(f"/api/v1/triggers/{theirs.pk}").status_code == 404


def test_preview_lists_which_recent_tickets_would_match(api, organization, inbox):
    factories.make_ticket(inbox, subject="Refund for March")
    factories.make_ticket(inbox, subject="Password reset")
    response = api.post("/api/v1/triggers/preview", {"conditions": ISSUE_BODY["conditions"]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["checked"] == 2
    assert [ticket["subject"] for ticket in response.json()["data"]] == ["Refund for March"]


# Conditions, one table ----------------------------------------------------------------------


@pytest.fixture
def fields(organization):
    make = ticket_services.create_custom_field
    make(organization=organization, actor=SYSTEM, key="amount", label="Amount", type="number")
    make(organization=organization, actor=SYSTEM, key="order_id", label="Order", type="text")


CONDITIONS = [
    # (condition, matches the ticket below?)
    ({"field": "subject", "op": "contains", "value": "REFUND"}, True),
    ({"field": "subject", "op": "not_contains", "value": "refund"}, False),
    ({"field": "body", "op": "contains", "value": "charged twice"}, True),
    ({"field": "body", "op": "not_contains", "value": "charged twice"}, False),
    ({"field": "priority", "op": "is", "value": "high"}, True),
    ({"field": "priority", "op": "in", "value": ["low", "normal"]}, False),
    ({"field": "status", "op": "is", "value": "open"}, True),
    ({"field": "status", "op": "is_not", "value": "open"}, False),
    ({"field": "channel", "op": "is", "value": "api"}, True),
    ({"field": "channel", "op": "not_in", "value": ["api", "web"]}, False),
    ({"field": "tags", "op": "contains", "value": ["vip"]}, True),
    ({"field": "tags", "op": "not_contains", "value": "vip"}, False),
    ({"field": "assignee", "op": "is_not_set"}, True),
    ({"field": "custom_fields.amount", "op": "gte", "value": 100}, True),
    ({"field": "custom_fields.amount", "op": "lt", "value": 100}, False),
    ({"field": "custom_fields.order_id", "op": "is", "value": "A-1"}, True),
    ({"field": "custom_fields.order_id", "op": "is_not_set"}, False),
    ({"field": "customer.metadata.plan", "op": "is", "value": "pro"}, True),
    ({"field": "customer.metadata.tokens", "op": "gt", "value": 500}, False),
    ({"field": "customer.metadata.missing", "op": "is_set"}, False),
]


@pytest.mark.parametrize(("condition", "expected"), CONDITIONS, ids=[repr(c) for c, _ in CONDITIONS])
def test_each_condition(organization, inbox, fields, condition, expected):
    make_trigger(organization, all=[condition], actions=[{"type": "add_tags", "value": ["matched"]}])
    ticket, _ = ticket_services.create_ticket(
        inbox=inbox,
        customer=ticket_services.CustomerData(
            email="jane@example.com", metadata={"plan": "pro", "tokens": 120}
        ),
        subject="Refund please",
        message="I was charged twice.",
        priority="high",
        tags=["vip"],
        custom_fields={"amount": 150, "order_id": "A-1"},
        actor=SYSTEM,
    )
    assert ("matched" in {tag.name for tag in ticket.tags.all()}) is expected


def test_inbox_condition_and_any_group(organization, inbox):
    sales = factories.make_inbox(organization, name="Sales", prefix="SAL")
    make_trigger(
        organization,
        all=[{"field": "inbox", "op": "is", "value": sales.public_id}],
        any=[
            {"field": "subject", "op": "contains", "value": "quote"},
            {"field": "subject", "op": "contains", "value": "price"},
        ],
        actions=[{"type": "set_priority", "value": "high"}],
    )
    assert factories.make_ticket(sales, subject="A price please").priority == "high"
    assert factories.make_ticket(sales, subject="Something else").priority == "normal"
    assert factories.make_ticket(inbox, subject="A price please").priority == "normal"


# Actions, one table -------------------------------------------------------------------------


def test_set_status_assignee_tags_and_custom_field(organization, inbox, agent, fields):
    make_trigger(
        organization,
        actions=[
            {"type": "set_assignee", "value": agent.email},
            {"type": "set_status", "value": "resolved"},
            {"type": "set_tags", "value": ["a", "b"]},
            {"type": "remove_tags", "value": ["b"]},
            {"type": "set_custom_field", "field": "order_id", "value": "A-9"},
        ],
    )
    ticket = factories.make_ticket(inbox, tags=["old"])
    assert ticket.assignee == agent
    assert ticket.status == "resolved"
    assert sorted(tag.name for tag in ticket.tags.all()) == ["a"]
    assert ticket.custom_fields == {"order_id": "A-9"}


def test_set_inbox_moves_the_ticket_with_a_new_reference(organization, inbox):
    sales = factories.make_inbox(organization, name="Sales", prefix="SAL")
    make_trigger(organization, actions=[{"type": "set_inbox", "value": sales.public_id}])
    ticket = factories.make_ticket(inbox)
    assert ticket.inbox == sales
    assert ticket.reference == "SAL-1"
    assert TicketEvent.objects.filter(
        ticket=ticket, field="reference", before="INV-1", after="SAL-1"
    ).exists()


def test_round_robin_takes_turns_within_the_group(organization, inbox):
    first = factories.make_agent(organization, email="first@acme.test")
    second = factories.make_agent(organization, email="second@acme.test")
    make_trigger(organization, actions=[{"type": "assign_round_robin", "value": [first.email, second.email]}])
    assignees = [factories.make_ticket(inbox).assignee for _ in range(4)]
    assert assignees == [first, second, first, second]


def test_least_loaded_picks_the_agent_with_fewest_open_tickets(organization, inbox):
    busy = factories.make_agent(organization, email="busy@acme.test")
    free = factories.make_agent(organization, email="free@acme.test")
    ticket_services.assign(ticket=factories.make_ticket(inbox), assignee=busy, actor=SYSTEM)
    make_trigger(organization, actions=[{"type": "assign_least_loaded", "value": [busy.pk, free.pk]}])
    assert factories.make_ticket(inbox).assignee == free


def test_internal_note_and_notification(organization, inbox, agent):
    make_trigger(
        organization,
        name="Heads up",
        actions=[
            {"type": "add_note", "value": "Check {{ customer_name }}'s order."},
            {"type": "notify_agents", "value": [agent.email], "message": "A refund came in"},
        ],
    )
    ticket = factories.make_ticket(inbox, name="Jane")
    note = ticket.messages.get(kind=Message.Kind.NOTE)
    assert note.body == "Check Jane's order."
    assert note.author_type == Message.AuthorType.SYSTEM
    notification = Notification.objects.get(user=agent)
    assert notification.ticket == ticket and "A refund came in" in notification.text


def test_a_note_a_trigger_adds_is_in_the_create_answer(api, organization, inbox):
    # The answer is the ticket as the triggers left it: its thread too, not only its fields.
    make_trigger(organization, name="Heads up", actions=[{"type": "add_note", "value": "Check the order."}])
    created = api.post("/api/v1/tickets", ticket_payload(), format="json").json()
    assert [(message["kind"], message["body"]) for message in created["messages"]] == [
        ("reply", ticket_payload()["message"]),
        ("note", "Check the order."),
    ]
    assert created == api.get(f"/api/v1/tickets/{created['id']}").json()


def test_a_triggers_note_is_authored_by_the_trigger_for_the_agent(api, agent_client, organization, inbox):
    make_trigger(organization, name="Heads up", actions=[{"type": "add_note", "value": "Check the order."}])
    created = api.post("/api/v1/tickets", ticket_payload(), format="json").json()
    note = next(message for message in created["messages"] if message["kind"] == "note")
    assert note["author"]["name"] == "Trigger: Heads up"
    page = agent_client.get(f"/desk/tickets/{created['id']}/").content.decode()
    assert "<strong>Trigger: Heads up</strong>" in page
    # The event that records the note names the same actor.
    assert (
        TicketEvent.objects.get(
            ticket__public_id=created["id"], action=TicketEvent.Action.NOTE_ADDED
        ).actor_label
        == "Trigger: Heads up"
    )


@pytest.fixture
def mail_settings(settings):
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    settings.SUPPORT_EMAIL_SENDER = "console"
    settings.SUPPORT_EMAIL = "support@acme.test"
    settings.DEFAULT_FROM_EMAIL = "helpdesk@acme.test"
    settings.DELIVERY_INLINE_RETRY_SECONDS = 0
    return settings


def test_email_the_customer_from_a_template(
    organization, inbox, mail_settings, django_capture_on_commit_callbacks
):
    make_trigger(
        organization,
        actions=[
            {
                "type": "email_customer",
                "subject": "About {{ ticket_subject }}",
                "body": "Hello {{ customer_name }}, we are on it ({{ ticket_reference }}).",
            }
        ],
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(inbox, email="jane@example.com", name="Jane", subject="My invoice")
    sent = [message for message in mail.outbox if message.subject == f"[{ticket.reference}] About My invoice"]
    assert len(sent) == 1
    assert sent[0].to == ["jane@example.com"]
    assert f"Hello Jane, we are on it ({ticket.reference})." in sent[0].body
    html = sent[0].alternatives[0][0]
    assert "Hello Jane, we are on it" in html


def test_emit_webhook_records_a_trigger_fired_event(organization, inbox, django_capture_on_commit_callbacks):
    from webhooks.models import Event

    make_trigger(
        organization, name="Refunds", actions=[{"type": "emit_webhook", "value": "refund.requested"}]
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket = factories.make_ticket(inbox)
    data = json.loads(Event.objects.get(type="trigger.fired").body)["data"]
    assert data["label"] == "refund.requested"
    assert data["trigger"] == "Refunds"
    assert data["ticket"]["id"] == ticket.public_id


# Events ---------------------------------------------------------------------------------------


def test_customer_and_agent_replies_and_status_changes_have_their_own_triggers(organization, inbox, agent):
    make_trigger(
        organization,
        name="Customer wrote",
        event="customer.replied",
        actions=[{"type": "add_tags", "value": ["customer-wrote"]}],
    )
    make_trigger(
        organization,
        name="Agent wrote",
        event="agent.replied",
        actions=[{"type": "add_tags", "value": ["agent-wrote"]}],
    )
    make_trigger(
        organization,
        name="Was resolved",
        event="ticket.status_changed",
        all=[{"field": "status", "op": "is", "value": "resolved"}],
        actions=[{"type": "add_tags", "value": ["was-resolved"]}],
    )
    ticket = factories.make_ticket(inbox)
    ticket_services.add_message(ticket=ticket, body="More detail", actor=Actor.for_customer(ticket.customer))
    assert [tag.name for tag in ticket.tags.all()] == ["customer-wrote"]
    ticket_services.add_message(ticket=ticket, body="On it", actor=Actor.agent(agent))
    ticket_services.add_message(ticket=ticket, body="A note", kind="note", actor=Actor.agent(agent))
    ticket_services.change_status(ticket=ticket, status="resolved", actor=Actor.agent(agent))
    assert sorted(tag.name for tag in ticket.tags.all()) == ["agent-wrote", "customer-wrote", "was-resolved"]


def test_sla_events_are_accepted_for_the_sla_app_to_tell(organization, inbox):
    make_trigger(organization, event="sla.breached", actions=[{"type": "set_priority", "value": "urgent"}])
    ticket = factories.make_ticket(inbox)
    fired = services.run_triggers(
        event_name="sla.breached", organization_id=organization.pk, ticket_id=ticket.pk
    )
    ticket.refresh_from_db()
    assert fired == ["Rule"] and ticket.priority == "urgent"


# One pass --------------------------------------------------------------------------------------


def test_two_triggers_that_undo_each_other_settle_after_one_pass(
    organization, inbox, django_capture_on_commit_callbacks
):
    make_trigger(
        organization,
        name="Down",
        position=1,
        all=[{"field": "priority", "op": "is", "value": "urgent"}],
        actions=[{"type": "set_priority", "value": "low"}],
    )
    make_trigger(
        organization,
        name="Up",
        position=2,
        all=[{"field": "priority", "op": "is", "value": "low"}],
        actions=[{"type": "set_priority", "value": "urgent"}],
    )
    make_trigger(
        organization, name="On update", event="ticket.updated", actions=[{"type": "add_tags", "value": ["x"]}]
    )
    with django_capture_on_commit_callbacks(execute=True):  # the worker counts the firings
        ticket = factories.make_ticket(inbox, priority="urgent")
    assert ticket.priority == "urgent"
    changes = TicketEvent.objects.filter(ticket=ticket, field="priority").order_by("id")
    assert [(event.actor_label, event.after) for event in changes] == [
        ("Trigger: Down", "low"),
        ("Trigger: Up", "urgent"),
    ]
    # The triggers' own updates started no "ticket updated" trigger.
    assert not ticket.tags.exists()
    assert Trigger.objects.get(name="Down").fired_count == 1


def test_a_trigger_the_ticket_refuses_is_skipped_and_the_create_succeeds(organization, inbox):
    ticket_services.create_custom_field(
        organization=organization,
        actor=SYSTEM,
        key="order_id",
        label="Order",
        type="text",
        required_to_resolve=True,
    )
    make_trigger(
        organization, name="Resolve", position=1, actions=[{"type": "set_status", "value": "resolved"}]
    )
    make_trigger(organization, name="Tag", position=2, actions=[{"type": "add_tags", "value": ["seen"]}])
    ticket = factories.make_ticket(inbox)
    assert ticket.status == "open"
    assert [tag.name for tag in ticket.tags.all()] == ["seen"]


def test_a_template_that_fails_as_it_renders_skips_its_trigger_not_the_create(organization, inbox):
    # As stored before templates were checked for tags that reach beyond the text.
    make_trigger(organization, name="Note", position=1, actions=[{"type": "add_note", "value": "Hi"}])
    Trigger.objects.filter(name="Note").update(
        actions=[{"type": "add_note", "value": '{% include "a.html" %}'}]
    )
    services._compiled.clear()
    cache.clear()
    make_trigger(organization, name="Tag", position=2, actions=[{"type": "add_tags", "value": ["seen"]}])
    ticket = factories.make_ticket(inbox)
    assert not ticket.messages.filter(kind=Message.Kind.NOTE).exists()
    assert [tag.name for tag in ticket.tags.all()] == ["seen"]


# Cost ------------------------------------------------------------------------------------------


def test_fifty_active_triggers_add_at_most_two_queries_to_a_create(
    organization, inbox, django_assert_num_queries, django_assert_max_num_queries
):
    def create():
        factories.make_ticket(inbox, email="jane@example.com", subject="Hello there")

    create()  # the customer exists from now on, as for most creates
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as baseline:
        create()
    for number in range(50):
        make_trigger(
            organization,
            name=f"Rule {number}",
            all=[
                {"field": "subject", "op": "contains", "value": f"word{number}"},
                {"field": "priority", "op": "is", "value": "urgent"},
            ],
            actions=[{"type": "set_priority", "value": "high"}],
        )
    create()  # compiles and caches the rule set once
    # The version of the rules comes with the organization row the create holds, and the
    # ticket is the one in hand: 50 triggers that do not match add no statement at all to
    # the baseline (which runs the organization's acknowledgement triggers already).
    with django_assert_max_num_queries(len(baseline)):
        create()


def test_running_the_triggers_of_a_create_reads_no_cache(organization, inbox, monkeypatch):
    make_trigger(organization, name="Refunds", **urgent(field="subject", op="contains", value="refund"))
    factories.make_ticket(inbox, subject="Warm up")  # this process compiles the rules once

    class NoCache:
        def get(self, *args, **kwargs):
            raise AssertionError("the shared cache was read")

        set = get

    monkeypatch.setattr(services, "cache", NoCache())

    assert factories.make_ticket(inbox, subject="A refund please").priority == "urgent"


# One name per trigger in an organization: "Trigger: <name>" names one of them ---------------


def test_a_second_trigger_with_a_name_already_used_is_a_400_naming_name(
    api, organization, other_organization
):
    assert api.post("/api/v1/triggers", ISSUE_BODY, format="json").status_code == 201
    assert_error(api.post("/api/v1/triggers", ISSUE_BODY, format="json"), 400, "name")
    other = api.post("/api/v1/triggers", {**ISSUE_BODY, "name": "Billing"}, format="json").json()
    assert_error(
        api.patch(f"/api/v1/triggers/{other['id']}", {"name": "Refunds are urgent"}, format="json"),
        400,
        "name",
    )
    assert Trigger.objects.filter(organization=organization, name="Refunds are urgent").count() == 1
    assert Trigger.objects.get(pk=other["id"]).name == "Billing"
    # Another organization's names are its own; saving a trigger under its own name is no clash.
    make_trigger(
        other_organization, name="Refunds are urgent", **urgent(field="subject", op="contains", value="x")
    )
    response = api.patch(f"/api/v1/triggers/{other['id']}", {"name": "Billing", "position": 3}, format="json")
    assert response.status_code == 200, response.json()


def test_admin_refuses_a_trigger_name_already_used_on_the_name_field(organization, client):
    staff = User.objects.create_superuser(email="admin@acme.test", password="pw", name="Ada Admin")
    client.force_login(staff)
    make_trigger(organization, name="Refunds", **urgent(field="subject", op="contains", value="refund"))
    billing = make_trigger(
        organization, name="Billing", **urgent(field="subject", op="contains", value="bill")
    )

    url = admin_url(Trigger, "change", billing.pk)
    response = client.post(url, browser_form(client, url, name="Refunds"))
    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors
    billing.refresh_from_db()
    assert billing.name == "Billing"

    add = admin_url(Trigger, "add")
    data = browser_form(
        client,
        add,
        organization=str(organization.pk),
        name="Refunds",
        event="ticket.created",
        actions=json.dumps(urgent()["actions"]),
    )
    response = client.post(add, data)
    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors
    assert Trigger.objects.filter(organization=organization, name="Refunds").count() == 1


def test_staff_add_a_custom_field_a_trigger_and_a_macro_in_the_admin_through_the_services(
    organization, inbox, client
):
    from accounts.models import AuditEvent
    from automation.models import Macro
    from tickets.models import CustomField

    staff = User.objects.create_superuser(email="admin@acme.test", password="pw", name="Ada Admin")
    client.force_login(staff)
    add = admin_url(CustomField, "add")
    data = browser_form(
        client,
        add,
        organization=str(organization.pk),
        key="plan",
        label="Plan",
        type="dropdown",
        options=json.dumps(["basic", "pro"]),
        position="0",
    )
    assert client.post(add, data).status_code == 302
    add = admin_url(Trigger, "add")
    data = browser_form(
        client,
        add,
        organization=str(organization.pk),
        name="Pro plans",
        event="ticket.created",
        position="0",
        conditions=json.dumps({"all": [{"field": "subject", "op": "contains", "value": "pro"}], "any": []}),
        actions=json.dumps([{"type": "set_custom_field", "field": "plan", "value": "pro"}]),
    )
    assert client.post(add, data).status_code == 302
    add = admin_url(Macro, "add")
    data = browser_form(
        client, add, organization=str(organization.pk), name="Thanks", reply="Thanks {{ customer_name }}!"
    )
    assert client.post(add, data).status_code == 302

    assert factories.make_ticket(inbox, subject="Upgrade to pro").custom_fields == {"plan": "pro"}
    assert Macro.objects.get(organization=organization, owner=None).name == "Thanks"
    assert set(AuditEvent.objects.filter(organization=organization).values_list("action", flat=True)) >= {
        "custom_field_created",
        "trigger_created",
        "macro_created",
    }
