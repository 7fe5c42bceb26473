"""Pending (waiting on the customer) and on hold (waiting on a third party)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from tickets import services
from tickets.actors import Actor
from tickets.exceptions import InvalidInput, InvalidTransition
from tickets.models import Ticket, TicketEvent
from tickets.querysets import OPEN_STATUSES
from tickets.tests import factories

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def reload(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["pending", "on_hold"])
def test_an_agent_sets_a_ticket_waiting_and_it_stays_unsolved(ticket, agent, status):
    services.change_status(ticket=ticket, status=status, actor=Actor.agent(agent))

    ticket = reload(ticket)
    assert ticket.status == status
    assert ticket.is_open and status in OPEN_STATUSES
    assert Ticket.objects.open().filter(pk=ticket.pk).exists()
    assert ticket.resolved_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["pending", "on_hold"])
def test_a_customer_reply_moves_a_waiting_ticket_back_to_open(ticket, agent, status):
    services.change_status(ticket=ticket, status=status, actor=Actor.agent(agent))

    services.add_message(ticket=ticket, body="Here is the log.", actor=Actor.for_customer(ticket.customer))

    assert reload(ticket).status == "open"
    moves = TicketEvent.objects.filter(ticket=ticket, action="status_changed").values_list("before", "after")
    assert list(moves)[-1] == (status, "open")


@pytest.mark.django_db
def test_an_agent_reply_or_note_leaves_a_pending_ticket_pending(ticket, agent):
    services.change_status(ticket=ticket, status="pending", actor=Actor.agent(agent))

    services.add_message(ticket=ticket, body="Still waiting for you.", actor=Actor.agent(agent))
    services.add_message(ticket=ticket, body="FYI", kind="note", actor=Actor.agent(agent))

    assert reload(ticket).status == "pending"


@pytest.mark.django_db
def test_a_reply_with_a_status_is_one_call_and_one_status_change(ticket, agent):
    services.add_message(
        ticket=ticket,
        body="Can you send a screenshot?",
        actor=Actor.agent(agent),
        changes={"status": "pending"},
    )

    ticket = reload(ticket)
    assert ticket.status == "pending"
    # Straight from open to pending: the reply's own "in progress" is not recorded on the way.
    moves = TicketEvent.objects.filter(ticket=ticket, action="status_changed").values_list("before", "after")
    assert list(moves) == [("open", "pending")]


@pytest.mark.django_db
def test_a_refused_status_with_a_reply_sends_nothing(ticket, agent):
    services.change_status(ticket=ticket, status="closed", actor=Actor.agent(agent))

    with pytest.raises(InvalidTransition):
        services.add_message(
            ticket=ticket, body="Waiting for you", actor=Actor.agent(agent), changes={"status": "pending"}
        )

    assert ticket.messages.count() == 1
    assert reload(ticket).status == "closed"


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["pending", "on_hold"])
def test_a_customer_may_close_a_waiting_ticket_but_not_set_it_waiting(ticket, agent, status):
    customer = Actor.for_customer(ticket.customer)
    with pytest.raises(InvalidTransition):
        services.change_status(ticket=ticket, status=status, actor=customer)

    services.change_status(ticket=ticket, status=status, actor=Actor.agent(agent))
    services.change_status(ticket=ticket, status="closed", actor=customer)
    assert reload(ticket).status == "closed"


# Auto-resolve ------------------------------------------------------------------------------


@pytest.fixture
def auto_inbox(organization):
    return factories.make_inbox(organization, name="Billing", auto_resolve_pending_days=3)


@pytest.mark.django_db
def test_a_pending_ticket_resolves_itself_after_the_inbox_days(auto_inbox, agent, time_machine):
    time_machine.move_to(START, tick=False)
    ticket = factories.make_ticket(auto_inbox)
    services.change_status(ticket=ticket, status="pending", actor=Actor.agent(agent))
    assert reload(ticket).auto_resolve_at == START + timedelta(days=3)

    time_machine.move_to(START + timedelta(days=2, hours=23), tick=False)
    call_command("resolve_pending_tickets", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert reload(ticket).status == "pending"

    time_machine.move_to(START + timedelta(days=3, minutes=1), tick=False)
    call_command("resolve_pending_tickets", stdout=open("/dev/null", "w"))  # noqa: SIM115
    ticket = reload(ticket)
    assert ticket.status == "resolved"
    assert ticket.auto_resolve_at is None
    event = TicketEvent.objects.filter(ticket=ticket, action="status_changed").last()
    assert (event.before, event.after, event.actor_label) == ("pending", "resolved", "Auto-resolve")


@pytest.mark.django_db
def test_a_customer_reply_before_the_deadline_cancels_the_auto_resolve(auto_inbox, agent, time_machine):
    time_machine.move_to(START, tick=False)
    ticket = factories.make_ticket(auto_inbox)
    services.change_status(ticket=ticket, status="pending", actor=Actor.agent(agent))
    time_machine.move_to(START + timedelta(days=1), tick=False)
    services.add_message(ticket=ticket, body="Here it is", actor=Actor.for_customer(ticket.customer))

    time_machine.move_to(START + timedelta(days=10), tick=False)
    assert services.resolve_due_pending_tickets() == 0
    ticket = reload(ticket)
    assert ticket.status == "open"
    assert ticket.auto_resolve_at is None


@pytest.mark.django_db
def test_an_inbox_without_auto_resolve_keeps_tickets_pending(ticket, agent, time_machine):
    time_machine.move_to(START, tick=False)
    services.change_status(ticket=ticket, status="pending", actor=Actor.agent(agent))
    time_machine.move_to(START + timedelta(days=400), tick=False)
    assert services.resolve_due_pending_tickets() == 0
    assert reload(ticket).status == "pending"


@pytest.mark.django_db(transaction=True)
def test_the_worker_gets_a_task_deferred_to_the_auto_resolve_time(settings, organization, time_machine):
    settings.TASKS = DATABASE_TASKS
    time_machine.move_to(START, tick=False)
    inbox = factories.make_inbox(organization, auto_resolve_pending_days=3)
    agent = factories.make_agent(organization)
    ticket = factories.make_ticket(inbox)
    services.change_status(ticket=ticket, status="pending", actor=Actor.agent(agent))

    task = DBTaskResult.objects.get(task_path="tickets.tasks.resolve_pending_ticket")
    assert task.run_after == START + timedelta(days=3)
    assert task.args_kwargs["args"] == [ticket.pk]


@pytest.mark.django_db
def test_the_inbox_setting_is_validated_by_the_service(organization, owner):
    inbox = factories.make_inbox(organization)
    with pytest.raises(InvalidInput):
        services.update_inbox(inbox=inbox, actor=Actor.agent(owner), auto_resolve_pending_days=0)
    services.update_inbox(inbox=inbox, actor=Actor.agent(owner), auto_resolve_pending_days=7)
    inbox.refresh_from_db()
    assert inbox.auto_resolve_pending_days == 7


# Dashboard ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_send_and_set_pending_in_the_composer(agent_client, ticket):
    page = agent_client.get(reverse("dashboard:ticket", args=[ticket.public_id]))
    assert b"Send and set pending" in page.content

    response = agent_client.post(
        reverse("dashboard:add_message", args=[ticket.public_id]),
        {"kind": "reply", "body": "Could you send the invoice number?", "set_pending": "1"},
    )

    assert response.status_code == 302
    ticket = reload(ticket)
    assert ticket.status == "pending"
    assert ticket.messages.last().body == "Could you send the invoice number?"
    page = agent_client.get(reverse("dashboard:ticket", args=[ticket.public_id]))
    assert b'data-testid="ticket-status">Pending<' in page.content


# API and dialects --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["pending", "on_hold"])
def test_the_native_api_accepts_and_answers_the_new_statuses(api, ticket, status):
    response = api.patch(f"/api/v1/tickets/{ticket.public_id}", {"status": status}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == status

    listed = api.get("/api/v1/tickets", {"status": status})
    assert [row["id"] for row in listed.json()["data"]] == [ticket.public_id]


@pytest.mark.django_db
def test_the_openapi_document_lists_the_new_statuses(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    status_enums = [
        component["enum"]
        for component in schema["components"]["schemas"].values()
        if "enum" in component and "in_progress" in component["enum"]
    ]
    assert list(Ticket.Status.values) in status_enums


# The statuses each seed document shows (docs/dialects.md): in-app documents a lifecycle,
# appbox and SupportDesk one word each. None of them has pending or on hold.
SEED_VOCABULARY = {
    "appbox": {"open"},
    "inapp": {"open", "in_progress", "resolved", "closed"},
    "supportdesk": {"IN_PROGRESS"},
}


@pytest.mark.parametrize("status", list(Ticket.Status.values))
def test_the_inapp_dialect_names_every_status_in_its_seed_vocabulary(status):
    from tickets.dialects import inapp

    assert inapp.seed_status(status) in SEED_VOCABULARY["inapp"]


def test_each_dialect_documents_only_its_seeds_statuses():
    from tickets.dialects import appbox, inapp, supportdesk

    assert set(appbox.STATUSES) == SEED_VOCABULARY["appbox"]
    assert set(inapp.STATUSES) == SEED_VOCABULARY["inapp"]
    assert set(supportdesk.STATUS_CHOICES) == SEED_VOCABULARY["supportdesk"]


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["pending", "on_hold"])
def test_the_inapp_api_shows_a_waiting_ticket_as_in_progress(ticket, agent, status):
    from rest_framework.test import APIClient

    services.change_status(ticket=ticket, status=status, actor=Actor.agent(agent))
    admin = APIClient()
    admin.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.make_agent_token(agent)[1]}")
    base = "/compat/inapp/v1/admin/support/tickets"

    assert admin.get(f"{base}/{ticket.public_id}").json()["status"] == "in_progress"
    listed = admin.get(base, {"status": "in_progress"}).json()["data"]
    assert [row["id"] for row in listed] == [ticket.public_id]
    assert admin.get(base, {"status": status}).status_code == 400

    # Sending back the status it shows asks for nothing: the ticket stays waiting.
    response = admin.patch(
        f"{base}/{ticket.public_id}", {"status": "in_progress", "priority": "high"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert reload(ticket).status == status
    assert admin.patch(f"{base}/{ticket.public_id}", {"status": "pending"}, format="json").status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["pending", "closed"])
def test_a_replayed_appbox_create_answers_what_the_first_create_did(api, inbox, agent, status):
    url = f"/compat/appbox/api/v1/paywall/{inbox.public_id}/create-ticket"
    body = {"email": "j@example.test", "subject": "Cannot access", "message": "Bought it yesterday."}
    first = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 201, first.content
    ticket = Ticket.objects.get(inbox=inbox, number=first.json()["ticket"]["id"])
    services.change_status(ticket=ticket, status=status, actor=Actor.agent(agent))

    again = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    # appbox's document has no word for a waiting or a closed ticket.
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() == {"ticket": {"id": ticket.number, "status": "open"}}


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["pending", "resolved"])
def test_a_replayed_supportdesk_create_answers_the_documents_one_status(api, inbox, agent, status):
    services.upsert_customer(
        organization=inbox.organization,
        data=services.CustomerData(email="john@acme.com", external_id="user_42"),
    )
    url = "/compat/supportdesk/api/v1/tickets/api-create"
    body = {"customerExternalId": "user_42", "subject": "Payment failed", "description": "CARD_DECLINED."}
    first = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 201, first.content
    ticket = Ticket.objects.get(public_id=first.json()["data"]["id"])
    services.change_status(ticket=ticket, status=status, actor=Actor.agent(agent))

    again = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["data"]["status"] == first.json()["data"]["status"] == "IN_PROGRESS"
