"""The "inside or outside business hours" condition: the calendar of the ticket's inbox
(sla/calendar.py), at the moment of the event; an inbox without one works 24/7."""

from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from automation import rules, services
from sla import services as sla_services
from sla.calendar import ALWAYS, Calendar
from tickets.actors import Actor
from tickets.tests import factories
from tickets.tests.api_helpers import assert_error

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("Tests")
WEEKDAYS_NINE_TO_FIVE = [
    {"day": day, "start": "09:00", "end": "17:00"} for day in ("mon", "tue", "wed", "thu", "fri")
]
# Monday 1 June 2026, in Berlin (UTC+2 in summer).
MONDAY_MORNING_BERLIN = datetime(2026, 6, 1, 8, 30, tzinfo=UTC)  # 10:30 there
MONDAY_EVENING_BERLIN = datetime(2026, 6, 1, 16, 30, tzinfo=UTC)  # 18:30 there
SATURDAY_NOON_BERLIN = datetime(2026, 6, 6, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_rule_cache():
    cache.clear()
    services._compiled.clear()


@pytest.fixture
def berlin_inbox(organization, inbox, owner):
    hours = sla_services.create_business_hours(
        organization=organization,
        actor=Actor.agent(owner),
        name="Berlin office",
        time_zone="Europe/Berlin",
        weekly=WEEKDAYS_NINE_TO_FIVE,
        holidays=["2026-06-02"],
    )
    inbox.business_hours = hours
    inbox.save(update_fields=["business_hours"])
    organization.refresh_from_db()
    return inbox


def after_hours_trigger(organization, when="outside"):
    return services.create_trigger(
        organization=organization,
        actor=SYSTEM,
        name="After hours",
        event="ticket.created",
        conditions={"all": [{"field": "business_hours", "op": "is", "value": when}], "any": []},
        actions=[{"type": "add_tags", "value": ["after-hours"]}],
    )


def tags_of(ticket):
    return [tag.name for tag in ticket.tags.all()]


@pytest.mark.parametrize(
    ("moment", "tagged"),
    [
        (MONDAY_MORNING_BERLIN, False),
        (MONDAY_EVENING_BERLIN, True),
        (SATURDAY_NOON_BERLIN, True),
        (datetime(2026, 6, 2, 8, 30, tzinfo=UTC), True),  # a holiday, 10:30 on a Tuesday
    ],
    ids=["monday-morning", "monday-evening", "saturday", "holiday"],
)
def test_a_ticket_outside_the_inboxs_business_hours_is_tagged(
    organization, berlin_inbox, time_machine, moment, tagged
):
    after_hours_trigger(organization)
    time_machine.move_to(moment, tick=False)

    ticket = factories.make_ticket(berlin_inbox)

    assert tags_of(ticket) == (["after-hours"] if tagged else [])


def test_inside_business_hours_matches_the_working_day(organization, berlin_inbox, time_machine):
    after_hours_trigger(organization, when="inside")
    time_machine.move_to(MONDAY_MORNING_BERLIN, tick=False)
    assert tags_of(factories.make_ticket(berlin_inbox)) == ["after-hours"]
    time_machine.move_to(SATURDAY_NOON_BERLIN, tick=False)
    assert tags_of(factories.make_ticket(berlin_inbox)) == []


def test_an_inbox_without_business_hours_is_always_inside_them(organization, inbox, time_machine):
    after_hours_trigger(organization)
    time_machine.move_to(SATURDAY_NOON_BERLIN, tick=False)
    assert tags_of(factories.make_ticket(inbox)) == []


def test_a_changed_calendar_is_read_by_the_next_ticket(organization, berlin_inbox, owner, time_machine):
    after_hours_trigger(organization)
    time_machine.move_to(SATURDAY_NOON_BERLIN, tick=False)
    assert tags_of(factories.make_ticket(berlin_inbox)) == ["after-hours"]

    weekend_too = [*WEEKDAYS_NINE_TO_FIVE, {"day": "sat", "start": "09:00", "end": "17:00"}]
    sla_services.update_business_hours(
        business_hours=berlin_inbox.business_hours, actor=Actor.agent(owner), weekly=weekend_too
    )
    berlin_inbox.organization.refresh_from_db()  # As the next request reads it.

    assert tags_of(factories.make_ticket(berlin_inbox)) == []


def test_the_preview_asks_whether_each_ticket_came_in_inside_business_hours(
    organization, berlin_inbox, time_machine
):
    time_machine.move_to(SATURDAY_NOON_BERLIN, tick=False)
    weekend = factories.make_ticket(berlin_inbox, subject="Weekend")
    time_machine.move_to(MONDAY_MORNING_BERLIN, tick=False)
    factories.make_ticket(berlin_inbox, subject="Monday")

    matched = services.preview(
        organization=organization,
        conditions={"all": [{"field": "business_hours", "op": "is", "value": "outside"}], "any": []},
    )

    assert matched == [weekend]


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"field": "business_hours", "op": "is", "value": "lunchtime"}, "conditions.all[0].value"),
        ({"field": "business_hours", "op": "is_not", "value": "inside"}, "conditions.all[0].op"),
    ],
)
def test_a_bad_business_hours_condition_is_a_400_naming_it(api, inbox, condition, field):
    body = {
        "name": "After hours",
        "event": "ticket.created",
        "conditions": {"all": [condition], "any": []},
        "actions": [{"type": "add_tags", "value": ["after-hours"]}],
    }
    assert_error(api.post("/api/v1/triggers", body, format="json"), 400, field)


def test_inside_business_hours_over_midnight_and_around_the_edges():
    night = Calendar.from_spec(
        time_zone="UTC", weekly=[{"day": "mon", "start": "22:00", "end": "06:00"}], holidays=[]
    )
    assert rules.inside_business_hours(night, datetime(2026, 6, 1, 22, 0, tzinfo=UTC))
    assert rules.inside_business_hours(night, datetime(2026, 6, 2, 5, 59, tzinfo=UTC))
    assert not rules.inside_business_hours(night, datetime(2026, 6, 2, 6, 0, tzinfo=UTC))
    assert not rules.inside_business_hours(night, datetime(2026, 6, 1, 21, 59, tzinfo=UTC))
    assert rules.inside_business_hours(ALWAYS, datetime(2026, 6, 6, 3, 0, tzinfo=UTC))
