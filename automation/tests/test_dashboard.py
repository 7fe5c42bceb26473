"""The dashboard: Settings → Triggers (editor and preview), macros on the ticket page and
in the bulk bar, and custom fields in the ticket sidebar."""

import json

import pytest
from django.core.cache import cache

from automation import services
from automation.models import Trigger
from automation.services import DEFAULT_TRIGGERS
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.tests import factories

DEFAULT_TRIGGER_NAMES = [name for name, _, _ in DEFAULT_TRIGGERS]

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("Tests")
CONDITIONS = {"all": [{"field": "subject", "op": "contains", "value": "refund"}], "any": []}
ACTIONS = [{"type": "set_priority", "value": "urgent"}]


@pytest.fixture(autouse=True)
def fresh_rules():
    cache.clear()
    services._compiled.clear()


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def form(**overrides):
    return {
        "name": "Refunds are urgent",
        "event": "ticket.created",
        "active": "on",
        "position": "0",
        "conditions": json.dumps(CONDITIONS),
        "actions": json.dumps(ACTIONS),
        **overrides,
    }


def test_an_owner_previews_then_adds_a_trigger(owner_client, inbox):
    factories.make_ticket(inbox, subject="Refund for March")
    factories.make_ticket(inbox, subject="Password reset")
    page = owner_client.post("/desk/automation/triggers/", form(preview="1"))
    assert page.status_code == 200
    assert page["Cache-Control"] == "private, no-store" or "no-store" in page["Cache-Control"]
    text = page.content.decode()
    assert "<strong>1</strong> of the last 100 tickets match" in text and "Refund for March" in text
    assert not Trigger.objects.filter(name="Refunds are urgent").exists()

    response = owner_client.post("/desk/automation/triggers/", form())
    assert response.status_code == 302
    trigger = Trigger.objects.get(name="Refunds are urgent")
    assert (trigger.name, trigger.conditions, trigger.actions) == ("Refunds are urgent", CONDITIONS, ACTIONS)
    inbox.organization.refresh_from_db()  # As the next request reads it: the rules' new version.
    assert factories.make_ticket(inbox, subject="A refund").priority == "urgent"

    listing = owner_client.get("/desk/automation/triggers/")
    assert "Refunds are urgent" in listing.content.decode()


def test_a_bad_trigger_shows_the_error_and_saves_nothing(owner_client, inbox):
    response = owner_client.post("/desk/automation/triggers/", form(actions='[{"type": "explode"}]'))
    assert response.status_code == 400
    assert "actions[0].type" in response.content.decode()
    assert not Trigger.objects.exclude(name__in=DEFAULT_TRIGGER_NAMES).exists()


def test_an_agent_cannot_open_the_trigger_editor(client, agent):
    client.force_login(agent)
    assert client.get("/desk/automation/triggers/").status_code == 403


def test_a_macro_applied_from_the_ticket_page_and_the_bulk_bar(client, agent, organization, inbox):
    macro = services.create_macro(
        organization=organization,
        actor=SYSTEM,
        name="Escalate",
        actions=[{"type": "set_priority", "value": "high"}],
        shortcut="e",
    )
    client.force_login(agent)
    first, second = factories.make_ticket(inbox), factories.make_ticket(inbox)
    page = client.get(f"/desk/tickets/{first.public_id}/").content.decode()
    assert "Escalate" in page and 'accesskey="e"' in page

    response = client.post(f"/desk/automation/tickets/{first.public_id}/macro/", {"macro": macro.pk})
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.priority == "high"

    assert "Apply macro" in client.get("/desk/").content.decode()
    client.post("/desk/automation/macros/apply/", {"macro": macro.pk, "ticket": [second.public_id]})
    second.refresh_from_db()
    assert second.priority == "high"
    macro.refresh_from_db()
    assert macro.usage_count == 2


def test_the_sidebar_edits_custom_fields_through_the_same_service(client, agent, organization, inbox):
    ticket_services.create_custom_field(
        organization=organization, actor=SYSTEM, key="order_id", label="Order", type="text"
    )
    ticket_services.create_custom_field(
        organization=organization, actor=SYSTEM, key="vip", label="VIP", type="checkbox"
    )
    ticket = factories.make_ticket(inbox)
    client.force_login(agent)
    page = client.get(f"/desk/tickets/{ticket.public_id}/").content.decode()
    assert 'name="cf.order_id"' in page and 'name="cf.vip"' in page

    url = f"/desk/tickets/{ticket.public_id}/update"
    shown = {"cf.order_id.shown": "1", "cf.vip.shown": "1"}
    client.post(url, {**shown, "cf.order_id": "A-1042", "cf.vip": "on"})
    ticket.refresh_from_db()
    assert ticket.custom_fields == {"order_id": "A-1042", "vip": True}
    assert ticket.events.filter(field="custom_fields.order_id", actor_user=agent).exists()


def test_the_queue_filters_by_custom_fields(client, agent, organization, inbox):
    ticket_services.create_custom_field(
        organization=organization, actor=SYSTEM, key="order_id", label="Order", type="text"
    )
    ticket_services.create_custom_field(
        organization=organization, actor=SYSTEM, key="amount", label="Amount", type="number"
    )
    factories.make_ticket(inbox, subject="Small order", custom_fields={"order_id": "A-1", "amount": 5})
    factories.make_ticket(inbox, subject="Large order", custom_fields={"order_id": "A-2", "amount": 500})
    client.force_login(agent)
    page = client.get("/desk/?view=all").content.decode()
    assert 'name="cf.order_id"' in page and 'name="cf.amount__gte"' in page

    page = client.get("/desk/?view=all&cf.order_id=A-2&cf.amount__gte=").content.decode()
    assert "Large order" in page and "Small order" not in page
    page = client.get("/desk/?view=all&cf.amount__lte=10").content.decode()
    assert "Small order" in page and "Large order" not in page
    page = client.get("/desk/?view=all&cf.amount__lte=ten")
    assert page.status_code == 200
    # The error names the box the agent typed in, not a parameter or Django's "__all__".
    errors = page.content.decode().split('class="form-errors"')[1].split("</ul>")[0]
    assert "<li>Amount to: Must be a whole number.</li>" in errors


def test_the_csv_export_has_a_column_per_custom_field(client, agent, organization, inbox):
    import csv
    import io

    ticket_services.create_custom_field(
        organization=organization, actor=SYSTEM, key="order_id", label="Order", type="text"
    )
    factories.make_ticket(inbox, subject="=HYPERLINK(1)", custom_fields={"order_id": "A-1"})
    factories.make_ticket(inbox, subject="No order")
    client.force_login(agent)
    response = client.get("/desk/export.csv?view=all&cf.order_id=A-1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][-1] == "cf.order_id"
    assert len(rows) == 2
    assert rows[1][1] == "'=HYPERLINK(1)" and rows[1][-1] == "A-1"


def test_a_trigger_name_already_used_is_the_name_fields_error(owner_client, organization):
    services.create_trigger(
        organization=organization,
        actor=SYSTEM,
        name="Refunds are urgent",
        event="ticket.created",
        actions=ACTIONS,
    )
    response = owner_client.post("/desk/automation/triggers/", form())
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert Trigger.objects.filter(organization=organization, name="Refunds are urgent").count() == 1

    other = services.create_trigger(
        organization=organization, actor=SYSTEM, name="Billing", event="ticket.created", actions=ACTIONS
    )
    response = owner_client.post(f"/desk/automation/triggers/{other.pk}/", form())
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    other.refresh_from_db()
    assert other.name == "Billing"


def test_an_owner_edits_an_acknowledgement_previews_and_deletes_a_trigger_in_the_editor(
    owner_client, organization, inbox
):
    email_ack = Trigger.objects.get(organization=organization, name="Acknowledge email requests")
    page = owner_client.get(f"/desk/automation/triggers/{email_ack.pk}/")
    assert (
        page.status_code == 200
        and "&quot;template&quot;: &quot;acknowledgement&quot;" in page.content.decode()
    )

    factories.make_ticket(inbox, subject="Refund for March")
    factories.make_ticket(inbox, subject="Password reset")
    edited = form(
        name=email_ack.name,
        position=str(email_ack.position),
        conditions=json.dumps(email_ack.conditions),
        actions=json.dumps(email_ack.actions),
    )
    preview = owner_client.post(
        f"/desk/automation/triggers/{email_ack.pk}/",
        {**edited, "conditions": json.dumps(CONDITIONS), "preview": "1"},
    )
    assert [ticket.subject for ticket in preview.context["matches"]] == ["Refund for March"]
    email_ack.refresh_from_db()
    assert email_ack.conditions != CONDITIONS  # A preview saves nothing.

    del edited["active"]  # The box unticked: the email acknowledgement is off.
    response = owner_client.post(f"/desk/automation/triggers/{email_ack.pk}/", edited)
    assert response.status_code == 302
    email_ack.refresh_from_db()
    assert email_ack.active is False

    organization.refresh_from_db()
    email_triggers = [trigger.name for trigger in services.rule_set(organization).by_event["ticket.created"]]
    assert "Acknowledge email requests" not in email_triggers
    assert "Acknowledge support form requests" in email_triggers

    response = owner_client.post(f"/desk/automation/triggers/{email_ack.pk}/delete/")
    assert response.status_code == 302
    assert not Trigger.objects.filter(pk=email_ack.pk).exists()
