"""A change of a customer's metadata (``plan`` becomes ``pro``) chooses the policy again for
their unsolved tickets, through every face that changes customers, and only when a key a
policy names changed."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla import services
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.models import Customer, Ticket, TicketEvent

NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def policies(make_policy):
    """Pro customers get a first reply within 30 minutes; everyone else within 8 hours."""
    pro = make_policy(
        "Pro customers",
        position=0,
        conditions={"customer_metadata": {"plan": "pro"}},
        targets={"first_reply_minutes": 30, "resolution_minutes": 600},
    )
    standard = make_policy("Everyone", position=1, targets={"first_reply_minutes": 480})
    return pro, standard


@pytest.fixture
def customer(organization):
    customer, _ = ticket_services.upsert_customer(
        organization=organization,
        data=ticket_services.CustomerData(
            email="sam@example.test", external_id="u-1", metadata={"plan": "free"}
        ),
    )
    return customer


def open_ticket(inbox, customer, **fields):
    ticket, _ = ticket_services.create_ticket(
        inbox=inbox,
        customer=customer,
        subject="Help",
        message="Please",
        actor=Actor.system("Tests"),
        **fields,
    )
    ticket.refresh_from_db()
    return ticket


def reloaded(ticket) -> Ticket:
    ticket.refresh_from_db()
    return ticket


def test_upgrading_a_customer_through_the_api_moves_their_open_tickets_to_the_pro_policy(
    api, inbox, customer, policies
):
    pro, standard = policies
    waiting = open_ticket(inbox, customer)
    resolved = open_ticket(inbox, customer)
    ticket_services.update_ticket(ticket=resolved, actor=Actor.system("Tests"), status="resolved")
    assert waiting.sla_policy_id == standard.pk
    assert waiting.first_reply_due_at == NOW + timedelta(hours=8)

    response = api.patch(
        f"/api/v1/customers/{customer.public_id}", {"metadata": {"plan": "pro"}}, format="json"
    )

    assert response.status_code == 200, response.content
    waiting = reloaded(waiting)
    assert waiting.sla_policy_id == pro.pk
    # Recomputed from when the clock started, under the new targets.
    assert waiting.first_reply_due_at == NOW + timedelta(minutes=30)
    assert waiting.resolution_due_at == NOW + timedelta(minutes=600)
    assert waiting.sla_due_at == NOW + timedelta(minutes=30)
    applied = TicketEvent.objects.get(ticket=waiting, action=TicketEvent.Action.SLA_APPLIED)
    assert (applied.before, applied.after) == ("Everyone", "Pro customers")
    # A solved ticket's clocks stay stopped.
    assert reloaded(resolved).sla_policy_id == standard.pk
    assert not TicketEvent.objects.filter(ticket=resolved, action=TicketEvent.Action.SLA_APPLIED).exists()

    api.patch(f"/api/v1/customers/{customer.public_id}", {"metadata": {"plan": "free"}}, format="json")
    assert reloaded(waiting).sla_policy_id == standard.pk
    assert reloaded(waiting).first_reply_due_at == NOW + timedelta(hours=8)


def test_appbox_user_meta_on_a_new_ticket_upgrades_the_customers_other_open_tickets(
    api, inbox, customer, policies
):
    pro, _ = policies
    earlier = open_ticket(inbox, customer)

    response = api.post(
        f"/compat/appbox/api/v1/paywall/{inbox.public_id}/create-ticket",
        {
            "email": customer.email,
            "subject": "Still no access",
            "message": "Hello?",
            "userMeta": {"plan": "pro"},
        },
        format="json",
    )

    assert response.status_code in (200, 201), response.content
    assert Customer.objects.get(pk=customer.pk).metadata["plan"] == "pro"
    assert reloaded(earlier).sla_policy_id == pro.pk
    newest = Ticket.objects.filter(customer=customer).latest("id")
    assert newest.sla_policy_id == pro.pk
    # Chosen once, at creation: the new ticket was not re-evaluated on top.
    assert not TicketEvent.objects.filter(ticket=newest, action=TicketEvent.Action.SLA_APPLIED).exists()


def test_a_change_of_a_key_no_policy_names_costs_one_query_and_rechooses_nothing(inbox, customer, policies):
    ticket = open_ticket(inbox, customer)
    with CaptureQueriesContext(connection) as baseline:
        ticket_services.update_customer(customer=customer, name="Sam")
    with CaptureQueriesContext(connection) as captured:
        ticket_services.update_customer(customer=customer, metadata={"plan": "free", "tokens": 12})
    # The organization's version; the policies come from the cache read beside it.
    assert len(captured) <= len(baseline) + 2
    assert not any("tickets_ticket" in query["sql"] for query in captured.captured_queries)
    assert not TicketEvent.objects.filter(ticket=ticket, action=TicketEvent.Action.SLA_APPLIED).exists()


def test_the_same_metadata_again_changes_nothing_and_reads_no_ticket(inbox, customer, policies):
    open_ticket(inbox, customer)
    with CaptureQueriesContext(connection) as captured:
        ticket_services.update_customer(customer=customer, metadata={"plan": "free"})
    assert not any("tickets_ticket" in query["sql"] for query in captured.captured_queries)


def test_without_policies_a_metadata_change_reads_no_ticket(inbox, customer):
    open_ticket(inbox, customer)
    with CaptureQueriesContext(connection) as captured:
        ticket_services.update_customer(customer=customer, metadata={"plan": "pro"})
    assert not any("tickets_ticket" in query["sql"] for query in captured.captured_queries)


def test_a_customer_with_many_open_tickets_is_re_evaluated_by_a_task_in_batches(
    inbox, customer, policies, monkeypatch, django_capture_on_commit_callbacks
):
    pro, _ = policies
    monkeypatch.setattr(services, "INLINE_REEVALUATIONS", 2)
    monkeypatch.setattr(services, "REEVALUATION_BATCH", 2)
    tickets = [open_ticket(inbox, customer) for _ in range(5)]

    with CaptureQueriesContext(connection) as in_request:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            ticket_services.update_customer(customer=customer, metadata={"plan": "pro"})
    # The change itself locked and rewrote none of them: the task does, after commit.
    assert not any(
        "FOR UPDATE" in q["sql"] and "tickets_ticket" in q["sql"] for q in in_request.captured_queries
    )
    assert all(reloaded(ticket).sla_policy_id != pro.pk for ticket in tickets)

    for callback in callbacks:
        callback()
    assert all(reloaded(ticket).sla_policy_id == pro.pk for ticket in tickets)
    actors = set(
        TicketEvent.objects.filter(action=TicketEvent.Action.SLA_APPLIED).values_list(
            "actor_label", flat=True
        )
    )
    assert actors == {"Service levels"}


def test_a_rolled_back_change_rechooses_nothing(inbox, customer, policies):
    from django.db import transaction

    ticket = open_ticket(inbox, customer)
    with pytest.raises(RuntimeError), transaction.atomic():
        ticket_services.update_customer(customer=customer, metadata={"plan": "pro"})
        raise RuntimeError("the request failed after")
    assert reloaded(ticket).sla_policy_id == policies[1].pk


def test_the_tickets_re_chosen_together_read_their_pauses_in_one_query_and_keep_them(
    inbox, customer, policies, time_machine
):
    pro, _ = policies
    agent = Actor.system("Tests")
    tickets = [open_ticket(inbox, customer) for _ in range(4)]
    # The first one waited two hours on the customer, and is open again.
    ticket_services.update_ticket(ticket=tickets[0], actor=agent, status="pending")
    time_machine.move_to(NOW + timedelta(hours=2), tick=False)
    ticket_services.update_ticket(ticket=tickets[0], actor=agent, status="open")
    ticket_services.update_ticket(ticket=tickets[1], actor=agent, status="in_progress")

    with CaptureQueriesContext(connection) as captured:
        ticket_services.update_customer(customer=customer, metadata={"plan": "pro"})

    status_reads = [
        query["sql"]
        for query in captured.captured_queries
        if "tickets_ticketevent" in query["sql"] and query["sql"].startswith("SELECT")
    ]
    assert len(status_reads) == 1
    assert all(reloaded(ticket).sla_policy_id == pro.pk for ticket in tickets)
    # Ten hours to resolve from creation, and the two it waited on the customer do not count.
    assert reloaded(tickets[0]).resolution_due_at == NOW + timedelta(hours=12)
    assert reloaded(tickets[2]).resolution_due_at == NOW + timedelta(hours=10)
