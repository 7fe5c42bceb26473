"""SLA policies chosen at creation and on change, and the clocks they start and stop."""

from datetime import UTC, datetime, timedelta
from importlib import import_module
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps

from accounts.models import Organization
from sla import services
from sla.models import SlaPolicy
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.exceptions import InvalidInput, PermissionDenied
from tickets.models import Customer, Ticket, TicketEvent
from tickets.tests import factories

BERLIN = ZoneInfo("Europe/Berlin")
WEDNESDAY_10 = datetime(2026, 3, 4, 10, 0, tzinfo=BERLIN)

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(WEDNESDAY_10, tick=False)
    return time_machine


def create(inbox, **fields):
    ticket = factories.make_ticket(inbox, **fields)
    ticket.refresh_from_db()
    return ticket


# Validation ---------------------------------------------------------------------------


def test_business_hours_with_an_unknown_time_zone_are_refused(organization, manager):
    with pytest.raises(InvalidInput) as error:
        services.create_business_hours(
            organization=organization,
            actor=manager,
            name="Office",
            time_zone="Mars/Olympus",
            weekly=[{"day": "mon", "start": "09:00", "end": "17:00"}],
        )
    assert error.value.field == "time_zone"


@pytest.mark.parametrize(
    ("weekly", "field"),
    [
        ([], "weekly"),
        ([{"day": "monday", "start": "09:00", "end": "17:00"}], "weekly[0].day"),
        ([{"day": "mon", "start": "9:00", "end": "17:00"}], "weekly[0].start"),
        ([{"day": "mon", "start": "09:00", "end": "25:00"}], "weekly[0].end"),
        (
            [
                {"day": "mon", "start": "09:00", "end": "13:00"},
                {"day": "mon", "start": "12:00", "end": "17:00"},
            ],
            "weekly",
        ),
    ],
)
def test_weekly_hours_that_make_no_sense_are_refused_with_the_field_named(
    organization, manager, weekly, field
):
    with pytest.raises(InvalidInput) as error:
        services.create_business_hours(organization=organization, actor=manager, name="Office", weekly=weekly)
    assert error.value.field == field


def test_a_bad_holiday_is_refused(organization, manager):
    with pytest.raises(InvalidInput) as error:
        services.create_business_hours(
            organization=organization,
            actor=manager,
            name="Office",
            weekly=[{"day": "mon", "start": "09:00", "end": "17:00"}],
            holidays=["2026-12-25", "christmas"],
        )
    assert error.value.field == "holidays[1]"


def test_an_agent_cannot_change_policies(organization, agent):
    with pytest.raises(PermissionDenied):
        services.create_policy(
            organization=organization, actor=Actor.agent(agent), name="X", targets={"first_reply_minutes": 5}
        )
    assert not SlaPolicy.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"targets": {}}, "targets"),
        ({"targets": {"first_reply_minutes": 0}}, "targets.first_reply_minutes"),
        ({"targets": {"first_reply": 5}}, "targets.first_reply"),
        ({"conditions": {"priority": ["asap"]}}, "conditions.priority[0]"),
        ({"conditions": {"inbox": ["01NOPE"]}}, "conditions.inbox[0]"),
        ({"conditions": {"colour": ["red"]}}, "conditions.colour"),
        ({"escalation": {"warning_percent": 100}}, "escalation.warning_percent"),
        ({"business_hours": "01NOPE"}, "business_hours"),
    ],
)
def test_a_bad_policy_is_refused_with_the_field_named(organization, manager, fields, field):
    fields.setdefault("targets", {"first_reply_minutes": 60})
    with pytest.raises(InvalidInput) as error:
        services.create_policy(organization=organization, actor=manager, name="Bad", **fields)
    assert error.value.field == field
    assert not SlaPolicy.objects.exists()


def test_policies_of_another_organization_cannot_use_its_calendar(make_hours, other_organization):
    hours = make_hours()
    owner = factories.make_agent(other_organization, role="owner")
    with pytest.raises(InvalidInput):
        services.create_policy(
            organization=other_organization,
            actor=Actor.agent(owner),
            name="X",
            business_hours=hours.public_id,
            targets={"first_reply_minutes": 5},
        )


# Choosing -----------------------------------------------------------------------------


def test_without_a_policy_a_ticket_has_no_due_times(inbox, frozen):
    ticket = create(inbox)
    assert ticket.sla_policy_id is None
    assert ticket.first_reply_due_at is None and ticket.resolution_due_at is None


def test_the_first_matching_policy_by_position_applies(inbox, make_policy, frozen):
    make_policy("Everyone", position=5, targets={"first_reply_minutes": 480})
    urgent = make_policy(
        "Urgent",
        position=1,
        conditions={"priority": ["urgent", "critical"]},
        targets={"first_reply_minutes": 30},
    )
    ticket = create(inbox, priority="urgent")
    assert ticket.sla_policy_id == urgent.pk
    assert ticket.first_reply_due_at == WEDNESDAY_10 + timedelta(minutes=30)
    assert ticket.sla_due_at == ticket.first_reply_due_at
    normal = create(inbox)
    assert normal.first_reply_due_at == WEDNESDAY_10 + timedelta(minutes=480)


def test_conditions_on_inbox_channel_tag_and_customer_metadata(organization, inbox, make_policy, frozen):
    other = factories.make_inbox(organization, name="Billing")
    pro = make_policy(
        "Pro by email in billing",
        position=0,
        conditions={
            "inbox": [other.public_id],
            "channel": ["email"],
            "tag": ["vip"],
            "customer_metadata": {"plan": "pro"},
        },
        targets={"first_reply_minutes": 15},
    )
    customer, _ = ticket_services.upsert_customer(
        organization=organization,
        data=ticket_services.CustomerData(email="pro@example.test", metadata={"plan": "pro"}),
        actor=Actor.system("Tests"),
    )

    def open_ticket(target_inbox, **fields):
        ticket, _ = ticket_services.create_ticket(
            inbox=target_inbox,
            customer=fields.pop("customer", customer),
            subject="Help",
            message="Please",
            actor=Actor.system("Tests"),
            **fields,
        )
        ticket.refresh_from_db()
        return ticket

    assert open_ticket(other, channel="email", tags=["VIP"]).sla_policy_id == pro.pk
    assert open_ticket(inbox, channel="email", tags=["vip"]).sla_policy_id is None
    assert open_ticket(other, channel="api", tags=["vip"]).sla_policy_id is None
    assert open_ticket(other, channel="email").sla_policy_id is None
    basic = Customer.objects.create(
        organization=organization, email="basic@example.test", metadata={"plan": "free"}
    )
    assert open_ticket(other, channel="email", tags=["vip"], customer=basic).sla_policy_id is None


def test_choosing_the_policy_adds_no_query_to_a_create_and_the_insert_carries_the_due_times(
    inbox, make_policy, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as without:
        factories.make_ticket(inbox)
    make_policy("Tagged", conditions={"tag": ["billing"]}, targets={"first_reply_minutes": 60})
    make_policy("Everyone", targets={"first_reply_minutes": 60, "resolution_minutes": 600})
    factories.make_ticket(inbox)  # the policies are now in this process's copy
    with django_assert_max_num_queries(len(without.captured_queries)) as captured:
        ticket = factories.make_ticket(inbox)
    # The row is written once: no UPDATE of the new ticket for its clocks.
    assert not any(query["sql"].startswith('UPDATE "tickets_ticket"') for query in captured.captured_queries)
    ticket.refresh_from_db()
    assert ticket.first_reply_due_at is not None
    assert ticket.resolution_due_at is not None
    assert ticket.sla_policy.name == "Everyone"


def test_a_ticket_split_off_another_starts_its_own_clocks(inbox, agent, make_policy, frozen):
    make_policy("Everyone", targets={"first_reply_minutes": 60, "resolution_minutes": 600})
    ticket = create(inbox)
    later, _ = ticket_services.add_message(
        ticket=ticket, body="Also, my password reset fails.", actor=Actor.for_customer(ticket.customer)
    )

    new = ticket_services.split_ticket(
        ticket=ticket, message=later, actor=Actor.agent(agent), subject="Password reset fails"
    )

    new.refresh_from_db()
    assert new.sla_policy.name == "Everyone"
    assert new.first_reply_due_at == new.created_at + timedelta(minutes=60)
    assert new.resolution_due_at == new.created_at + timedelta(minutes=600)


def test_a_create_through_the_api_with_ten_policies_costs_at_most_one_more_query_answer_included(
    api, inbox, make_policy
):
    """The answer names the policy (``sla.policy``) from what was chosen, not from a read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def create(email):
        with CaptureQueriesContext(connection) as captured:
            response = api.post(
                "/api/v1/tickets",
                {"customer": {"email": email}, "subject": "Help", "message": "Hi"},
                format="json",
            )
        assert response.status_code == 201, response.content
        return len(captured.captured_queries), response.json()

    create("warm@example.test")
    without, _ = create("without@example.test")
    for position, priority in enumerate(["urgent", "high", "low", "critical"]):
        make_policy(f"{priority} tickets", position=position, conditions={"priority": [priority]})
    for position, tag in enumerate(["vip", "refund", "bug"], start=4):
        make_policy(f"{tag} tickets", position=position, conditions={"tag": [tag]})
    make_policy("By email", position=7, conditions={"channel": ["email"]})
    make_policy("Pro plan", position=8, conditions={"customer_metadata": {"plan": "pro"}})
    everyone = make_policy("Everyone", position=9)
    create("warm-again@example.test")
    services._local.clear()  # this process has not seen them: the shared cache is read

    with_policies, answer = create("with@example.test")

    # The shared cache's read at most: the due times ride on the ticket's INSERT.
    assert with_policies <= without + 1
    assert answer["sla"]["policy"] == {"id": everyone.public_id, "name": "Everyone"}
    assert answer["sla"]["first_reply_due_at"] is not None


def test_business_time_targets_count_in_the_inbox_calendar(
    organization, inbox, make_policy, make_hours, manager, time_machine
):
    hours = make_hours()
    services.set_inbox_business_hours(inbox=inbox, business_hours=hours, actor=manager)

    make_policy(targets={"first_reply_minutes": 120, "resolution_minutes": 16 * 60})
    time_machine.move_to(datetime(2026, 3, 6, 16, 0, tzinfo=BERLIN), tick=False)  # a Friday
    ticket = create(inbox)
    assert ticket.first_reply_due_at == datetime(2026, 3, 9, 10, 0, tzinfo=BERLIN)
    assert ticket.resolution_due_at == datetime(2026, 3, 10, 16, 0, tzinfo=BERLIN)


def test_an_inbox_given_business_hours_after_a_create_counts_them_for_the_next_one(
    organization, inbox, api, make_policy, make_hours, manager, time_machine
):
    # The create through an API key keeps the inbox it resolved in the process; giving it
    # business hours names a new version of the organization's inboxes, so the next
    # create reads it again and counts working time.
    make_policy(targets={"first_reply_minutes": 120})
    time_machine.move_to(datetime(2026, 3, 6, 16, 0, tzinfo=BERLIN), tick=False)  # a Friday
    body = {"customer": {"email": "jo@example.test"}, "subject": "Refund", "message": "Where is it?"}
    assert api.post("/api/v1/tickets", body, format="json").json()["sla"]["first_reply_due_at"] == (
        "2026-03-06T17:00:00Z"
    )

    before = Organization.objects.values_list("inboxes_version", flat=True).get(pk=organization.pk)
    services.set_inbox_business_hours(inbox=inbox, business_hours=make_hours(), actor=manager)
    assert Organization.objects.values_list("inboxes_version", flat=True).get(pk=organization.pk) != before

    answer = api.post("/api/v1/tickets", body, format="json").json()
    assert answer["sla"]["first_reply_due_at"] == "2026-03-09T09:00:00Z"

    # Deleting the calendar sets the inbox's to none: a write of the inbox too.
    before = Organization.objects.values_list("inboxes_version", flat=True).get(pk=organization.pk)
    services.delete_business_hours(business_hours=inbox.business_hours, actor=manager)
    assert Organization.objects.values_list("inboxes_version", flat=True).get(pk=organization.pk) != before
    answer = api.post("/api/v1/tickets", body, format="json").json()
    assert answer["sla"]["first_reply_due_at"] == "2026-03-06T17:00:00Z"


def test_calendar_time_ignores_business_hours(
    organization, inbox, make_policy, make_hours, manager, time_machine
):
    services.set_inbox_business_hours(inbox=inbox, business_hours=make_hours(), actor=manager)
    make_policy(time_basis="calendar", targets={"first_reply_minutes": 120})
    time_machine.move_to(datetime(2026, 3, 6, 16, 0, tzinfo=BERLIN), tick=False)
    assert create(inbox).first_reply_due_at == datetime(2026, 3, 6, 18, 0, tzinfo=BERLIN)


def test_raising_the_priority_or_adding_a_tag_chooses_the_policy_again(inbox, agent, make_policy, frozen):
    make_policy(
        "Urgent", position=0, conditions={"priority": ["urgent"]}, targets={"first_reply_minutes": 30}
    )
    make_policy("VIP", position=1, conditions={"tag": ["vip"]}, targets={"first_reply_minutes": 10})
    make_policy("Everyone", position=2, targets={"first_reply_minutes": 480})
    ticket = create(inbox)
    assert ticket.first_reply_due_at == WEDNESDAY_10 + timedelta(minutes=480)

    frozen.shift(timedelta(minutes=5))
    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), priority="urgent")
    ticket.refresh_from_db()
    # Counted from when the ticket was opened, not from the change.
    assert ticket.first_reply_due_at == WEDNESDAY_10 + timedelta(minutes=30)
    assert ticket.sla_policy.name == "Urgent"
    event = TicketEvent.objects.get(ticket=ticket, action=TicketEvent.Action.SLA_APPLIED)
    assert (event.before, event.after) == ("Everyone", "Urgent")

    ticket_services.update_ticket(
        ticket=ticket, actor=Actor.agent(agent), priority="normal", add_tags=["vip"]
    )
    ticket.refresh_from_db()
    assert ticket.sla_policy.name == "VIP"
    assert ticket.first_reply_due_at == WEDNESDAY_10 + timedelta(minutes=10)


def test_moving_to_an_inbox_with_other_hours_recounts_the_due_times_under_the_same_policy(
    organization, inbox, agent, make_policy, make_hours, manager, time_machine
):
    services.set_inbox_business_hours(inbox=inbox, business_hours=make_hours(), actor=manager)
    around_the_clock = factories.make_inbox(organization, name="Night desk", prefix="NGT")
    make_policy(targets={"first_reply_minutes": 120})
    friday_16 = datetime(2026, 3, 6, 16, 0, tzinfo=BERLIN)
    time_machine.move_to(friday_16, tick=False)
    ticket = create(inbox)
    assert ticket.first_reply_due_at == datetime(2026, 3, 9, 10, 0, tzinfo=BERLIN)

    time_machine.move_to(friday_16 + timedelta(minutes=5), tick=False)
    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), inbox=around_the_clock)
    ticket.refresh_from_db()
    # The same policy, now counted in the new inbox's hours (24/7) from the opening.
    assert ticket.first_reply_due_at == friday_16 + timedelta(minutes=120)
    assert ticket.sla_due_at == ticket.first_reply_due_at

    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), inbox=inbox)
    ticket.refresh_from_db()
    assert ticket.first_reply_due_at == datetime(2026, 3, 9, 10, 0, tzinfo=BERLIN)
    assert not TicketEvent.objects.filter(ticket=ticket, action=TicketEvent.Action.SLA_APPLIED).exists()


# Clocks -------------------------------------------------------------------------------


def test_an_agent_reply_satisfies_first_reply_and_a_customer_message_starts_next_reply(
    inbox, agent, make_policy, frozen
):
    make_policy()
    ticket = create(inbox)
    frozen.shift(timedelta(minutes=20))
    ticket_services.add_message(ticket=ticket, actor=Actor.agent(agent), body="On it.")
    ticket.refresh_from_db()
    assert ticket.first_reply_due_at is None
    assert ticket.next_reply_due_at is None
    assert ticket.sla_breached == []
    assert ticket.resolution_due_at == WEDNESDAY_10 + timedelta(minutes=1440)

    frozen.shift(timedelta(minutes=10))
    customer = Actor.for_customer(ticket.customer)
    ticket_services.add_message(ticket=ticket, actor=customer, body="Still broken.")
    frozen.shift(timedelta(minutes=10))
    ticket_services.add_message(ticket=ticket, actor=customer, body="Hello?")
    ticket.refresh_from_db()
    # The oldest unanswered message sets the clock.
    assert ticket.next_reply_due_at == WEDNESDAY_10 + timedelta(minutes=30 + 240)
    assert ticket.sla_due_at == ticket.next_reply_due_at

    # An internal note answers nobody.
    ticket_services.add_message(ticket=ticket, actor=Actor.agent(agent), body="hmm", kind="note")
    ticket.refresh_from_db()
    assert ticket.next_reply_due_at is not None

    ticket_services.add_message(ticket=ticket, actor=Actor.agent(agent), body="Fixed now.")
    ticket.refresh_from_db()
    assert ticket.next_reply_due_at is None


def test_a_late_first_reply_is_recorded_as_breached(inbox, agent, make_policy, frozen):
    make_policy(targets={"first_reply_minutes": 30})
    ticket = create(inbox)
    frozen.shift(timedelta(minutes=45))
    ticket_services.add_message(ticket=ticket, actor=Actor.agent(agent), body="Sorry for the wait.")
    ticket.refresh_from_db()
    assert ticket.sla_breached == ["first_reply"]
    assert ticket.sla_breached_at == WEDNESDAY_10 + timedelta(minutes=30)


def test_resolving_stops_the_clocks_and_a_customer_reopen_starts_them_again(
    inbox, agent, make_policy, frozen
):
    make_policy()
    ticket = create(inbox)
    ticket_services.add_message(ticket=ticket, actor=Actor.agent(agent), body="Done.")
    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), status="resolved")
    ticket.refresh_from_db()
    assert (ticket.first_reply_due_at, ticket.next_reply_due_at, ticket.resolution_due_at) == (
        None,
        None,
        None,
    )
    assert ticket.sla_due_at is None and ticket.sla_check_at is None
    assert ticket.sla_breached == []

    frozen.shift(timedelta(hours=2))
    ticket_services.add_message(ticket=ticket, actor=Actor.for_customer(ticket.customer), body="It is back.")
    ticket.refresh_from_db()
    assert ticket.status == "open"
    reopened = WEDNESDAY_10 + timedelta(hours=2)
    assert ticket.resolution_due_at == reopened + timedelta(minutes=1440)
    assert ticket.next_reply_due_at == reopened + timedelta(minutes=240)


def test_clocks_pause_in_paused_statuses_and_resume_with_the_time_left(
    inbox, agent, make_policy, frozen, monkeypatch
):
    # Pending and on-hold arrive with another change: pretend "in_progress" pauses.
    monkeypatch.setattr(services, "paused_statuses", lambda: frozenset({"in_progress"}))
    make_policy(targets={"resolution_minutes": 120})
    ticket = create(inbox)
    frozen.shift(timedelta(minutes=30))
    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), status="in_progress")
    ticket.refresh_from_db()
    assert ticket.sla_paused_at == WEDNESDAY_10 + timedelta(minutes=30)
    assert ticket.sla_due_at is None and ticket.sla_check_at is None

    frozen.shift(timedelta(hours=5))
    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), status="open")
    ticket.refresh_from_db()
    # 90 minutes were left when it paused; they run again from now.
    assert ticket.resolution_due_at == WEDNESDAY_10 + timedelta(minutes=30, hours=5) + timedelta(minutes=90)
    assert ticket.sla_paused_at is None


@pytest.fixture
def urgent_and_standard(make_policy):
    """Urgent tickets get four hours to resolution, the others two: raising the priority
    chooses the policy again."""
    make_policy(
        "Urgent", position=0, conditions={"priority": ["urgent"]}, targets={"resolution_minutes": 240}
    )
    make_policy("Standard", position=1, targets={"resolution_minutes": 120})


def test_a_policy_chosen_again_keeps_the_time_the_ticket_spent_paused(
    inbox, agent, urgent_and_standard, frozen
):
    ticket = create(inbox)
    frozen.shift(timedelta(minutes=30))
    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), status="pending")
    frozen.shift(timedelta(hours=5))
    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), status="open")
    frozen.shift(timedelta(minutes=10))

    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), priority="urgent")

    ticket.refresh_from_db()
    assert ticket.sla_policy.name == "Urgent"
    # Four working hours from creation, and the five hours it waited on the customer do
    # not count: not breached the moment the priority was raised.
    assert ticket.resolution_due_at == WEDNESDAY_10 + timedelta(hours=4) + timedelta(hours=5)
    assert ticket.sla_breached == []


def test_a_conversation_we_opened_waits_on_the_customer_without_its_clocks_running(
    inbox, agent, urgent_and_standard, frozen
):
    ticket = create(inbox, actor=Actor.agent(agent), channel="email", outbound=True)
    assert ticket.status == "pending"
    frozen.shift(timedelta(hours=3))
    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), status="open")
    frozen.shift(timedelta(minutes=10))

    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), priority="urgent")

    ticket.refresh_from_db()
    # The three hours it waited on the customer since it was opened do not count.
    assert ticket.resolution_due_at == WEDNESDAY_10 + timedelta(hours=3) + timedelta(hours=4)


def test_a_policy_chosen_again_while_paused_counts_the_pause_on_resume(
    inbox, agent, urgent_and_standard, frozen
):
    ticket = create(inbox)
    frozen.shift(timedelta(minutes=30))
    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), status="pending")
    frozen.shift(timedelta(hours=1))
    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), priority="urgent")
    frozen.shift(timedelta(hours=4))

    ticket_services.update_ticket(ticket=ticket, actor=Actor.agent(agent), status="open")

    ticket.refresh_from_db()
    # 30 minutes ran before the pause; 210 of the 240 are left from now.
    assert ticket.resolution_due_at == WEDNESDAY_10 + timedelta(hours=5, minutes=30) + timedelta(minutes=210)


def test_there_are_no_paused_statuses_until_they_exist():
    assert services.paused_statuses() == frozenset(
        status for status in ("pending", "on_hold") if status in Ticket.Status.values
    )


def test_the_due_times_are_stored_in_utc_and_indexed():
    indexed = {field.name for field in Ticket._meta.fields if field.db_index}
    assert {"first_reply_due_at", "next_reply_due_at", "resolution_due_at", "sla_check_at"} <= indexed
    assert any(index.fields == ["organization", "sla_due_at"] for index in Ticket._meta.indexes)


def test_time_left_counts_working_time(inbox, make_policy, frozen):
    make_policy(targets={"first_reply_minutes": 60})
    ticket = create(inbox)
    from sla.calendar import ALWAYS

    assert services.time_left(ticket, ALWAYS, datetime.now(UTC)) == timedelta(minutes=60)
    with time_machine.travel(WEDNESDAY_10 + timedelta(minutes=90), tick=False):
        assert services.time_left(ticket, ALWAYS, datetime.now(UTC)) == timedelta(minutes=-30)


def test_a_policy_deleted_before_its_name_was_kept_is_named_where_the_events_tell_it(
    inbox, agent, urgent_and_standard, frozen
):
    """``tickets`` 0039, on tickets as a deletion left them before: no policy, no name."""
    rechosen = create(inbox)
    ticket_services.update_ticket(ticket=rechosen, actor=Actor.agent(agent), priority="urgent")
    chosen_at_creation = create(inbox, priority="urgent")
    never = create(inbox)
    ticket_services.update_ticket(ticket=never, actor=Actor.agent(agent), priority="urgent")
    ticket_services.update_ticket(ticket=never, actor=Actor.agent(agent), priority="normal")
    # The deletion as it was: Django's SET_NULL, and nothing kept.
    SlaPolicy.objects.filter(name="Urgent").delete()

    import_module("tickets.migrations.0039_backfill_deleted_policy_names").backfill(apps, None)

    names = dict(Ticket.objects.values_list("pk", "sla_deleted_policy_name"))
    assert names[rechosen.pk] == "Urgent"
    assert names[chosen_at_creation.pk] == ""  # no event ever named it
    assert names[never.pk] == ""  # its policy is "Standard", which lives on
    assert Ticket.objects.get(pk=never.pk).sla_policy.name == "Standard"
