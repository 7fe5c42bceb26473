"""The domain's rules, called the way every face calls them: through tickets.services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tickets import events, services
from tickets.actors import Actor
from tickets.exceptions import (
    DailyLimitReached,
    IdempotencyConflict,
    InvalidInput,
    InvalidTransition,
    PermissionDenied,
    QuotaReached,
)
from tickets.models import Customer, IdempotencyKey, Inbox, Message, Notification, Ticket, TicketEvent
from tickets.tests import factories

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("Tests")


def _create(inbox, email="jane@example.com", **fields):
    return services.create_ticket(
        inbox=inbox,
        customer=services.CustomerData(email=email),
        subject=fields.pop("subject", "Broken invoice"),
        message=fields.pop("message", "The total is wrong."),
        actor=SYSTEM,
        **fields,
    )


# Validation ---------------------------------------------------------------------------


@pytest.mark.parametrize("subject", ["", "ab", "  a ", "x" * 201])
def test_subject_outside_3_to_200_characters_is_refused(subject):
    with pytest.raises(InvalidInput) as caught:
        services.validate_subject(subject)
    assert caught.value.field == "subject"


def test_subject_is_trimmed():
    assert services.validate_subject("  Hello  ") == "Hello"


@pytest.mark.parametrize("body", ["", "   ", "x" * (64 * 1024 + 1)])
def test_message_outside_1_to_64_ki_characters_is_refused(body):
    with pytest.raises(InvalidInput):
        services.validate_body(body)


@pytest.mark.parametrize(
    "metadata",
    [
        [1, 2],
        "text",
        {f"k{i}": i for i in range(51)},
        {"a": {"b": {"c": {"d": 1}}}},
        {"x" * 101: 1},
        {"big": "x" * 9000},
    ],
)
def test_metadata_must_be_a_bounded_object(metadata):
    with pytest.raises(InvalidInput):
        services.validate_metadata(metadata)


def test_metadata_may_nest_a_little():
    value = {"plan": "pro", "limits": {"tokens": {"used": 3}}, "tags": ["a", "b"]}
    assert services.validate_metadata(value) == value


@pytest.mark.parametrize("email", ["plain", "a@", "@b.com", "a b@c.com"])
def test_bad_email_is_refused(email):
    with pytest.raises(InvalidInput):
        services.normalize_email(email)


def test_email_is_lowercased():
    assert services.normalize_email(" Jane@Example.COM ") == "jane@example.com"


# Customers ----------------------------------------------------------------------------


def test_upsert_creates_then_finds_by_external_id_and_merges_metadata(organization):
    first, created = services.upsert_customer(
        organization=organization,
        data=services.CustomerData(external_id="u1", email="a@example.com", metadata={"plan": "free"}),
    )
    second, created_again = services.upsert_customer(
        organization=organization,
        data=services.CustomerData(external_id="u1", metadata={"plan": "pro", "n": 1}),
    )

    assert (created, created_again) == (True, False)
    assert first.pk == second.pk
    second.refresh_from_db()
    assert second.metadata == {"plan": "pro", "n": 1}
    assert second.email == "a@example.com"


def test_upsert_needs_an_email_or_external_id(organization):
    with pytest.raises(InvalidInput) as caught:
        services.upsert_customer(organization=organization, data=services.CustomerData(name="Nobody"))
    assert caught.value.field == "customer"


def test_customers_are_per_organization(organization, other_organization):
    ours, _ = services.upsert_customer(
        organization=organization, data=services.CustomerData(email="a@x.test")
    )
    theirs, _ = services.upsert_customer(
        organization=other_organization, data=services.CustomerData(email="a@x.test")
    )

    assert ours.pk != theirs.pk


def test_update_customer_replaces_metadata_and_refuses_a_taken_email(organization):
    customer, _ = services.upsert_customer(
        organization=organization, data=services.CustomerData(email="a@x.test", metadata={"a": 1})
    )
    services.upsert_customer(organization=organization, data=services.CustomerData(email="b@x.test"))

    services.update_customer(customer=customer, metadata={"b": 2})
    assert Customer.objects.get(pk=customer.pk).metadata == {"b": 2}
    with pytest.raises(InvalidInput):
        services.update_customer(customer=customer, email="b@x.test")


# Creating tickets ---------------------------------------------------------------------


def test_create_numbers_tickets_per_inbox(organization, inbox):
    other = factories.make_inbox(organization, prefix="OTH")

    first, _ = _create(inbox, email="a@x.test")
    second, _ = _create(inbox, email="b@x.test")
    elsewhere, _ = _create(other, email="c@x.test")

    assert (first.reference, second.reference, elsewhere.reference) == ("INV-1", "INV-2", "OTH-1")


def test_create_records_the_first_message_and_a_created_event(inbox):
    ticket, created = _create(inbox, tags=["billing", "billing", "vip"])

    assert created is True
    assert ticket.messages.get().author_type == Message.AuthorType.CUSTOMER
    assert ticket.events.get().action == TicketEvent.Action.CREATED
    assert sorted(ticket.tags.values_list("name", flat=True)) == ["billing", "vip"]
    assert ticket.reply_address == "jane@example.com"


def test_daily_limit_refuses_the_third_ticket_with_seconds_to_midnight(inbox):
    inbox.daily_limit_per_customer = 2
    inbox.save(update_fields=["daily_limit_per_customer"])

    _create(inbox)
    _create(inbox)

    with pytest.raises(DailyLimitReached) as caught:
        _create(inbox)
    assert 0 < caught.value.retry_after_seconds <= 24 * 3600
    assert Ticket.objects.count() == 2


def test_monthly_quota_counts_the_whole_organization(organization, inbox):
    organization.monthly_ticket_quota = 1
    organization.save()
    _create(inbox, email="a@x.test")

    with pytest.raises(QuotaReached):
        _create(inbox, email="b@x.test")


def test_last_months_tickets_do_not_use_this_months_quota(organization, inbox):
    organization.monthly_ticket_quota = 1
    organization.save()
    old, _ = _create(inbox, email="a@x.test")
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))

    assert _create(inbox, email="b@x.test")[1] is True


def test_idempotency_key_returns_the_first_ticket_and_refuses_another_request(inbox):
    first, created = _create(inbox, idempotency_key="abc")
    again, created_again = _create(inbox, idempotency_key="abc")

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    with pytest.raises(IdempotencyConflict):
        _create(inbox, idempotency_key="abc", subject="Different")
    assert IdempotencyKey.objects.get().ticket == first


def test_idempotency_keys_are_per_organization(inbox, other_inbox):
    ours, _ = _create(inbox, idempotency_key="same")
    theirs, created = _create(other_inbox, idempotency_key="same")

    assert created is True
    assert ours.pk != theirs.pk


def test_auto_assignment_picks_the_least_loaded_available_n1_agent(
    organization, django_capture_on_commit_callbacks
):
    inbox = factories.make_inbox(
        organization, prefix="AUTO", auto_assignment=Inbox.AutoAssignment.LEAST_LOADED_N1
    )
    busy = factories.make_agent(organization, email="busy@x.test")
    free = factories.make_agent(organization, email="free@x.test")
    factories.make_agent(organization, email="away@x.test", is_available=False)
    factories.make_agent(organization, email="n2@x.test", tier="n2")
    existing, _ = _create(inbox, email="a@x.test")
    services.assign(ticket=existing, assignee=busy, actor=SYSTEM)

    with django_capture_on_commit_callbacks(execute=True):
        ticket, _ = _create(inbox, email="b@x.test")

    assert ticket.assignee == free
    assert Ticket.objects.get(pk=ticket.pk).status == Ticket.Status.IN_PROGRESS
    assert Notification.objects.filter(user=free, ticket=ticket).exists()


def test_side_effects_run_only_after_commit(inbox, monkeypatch, django_capture_on_commit_callbacks):
    heard = []
    monkeypatch.setitem(events._subscribers, events.TicketCreated, [heard.append])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ticket, _ = _create(inbox)
    assert heard == []
    for callback in callbacks:
        callback()
    assert [event.ticket_id for event in heard] == [ticket.pk]


def test_a_new_inbox_has_no_daily_limit_so_a_third_ticket_of_the_day_is_created(organization):
    inbox = services.create_inbox(organization=organization, actor=SYSTEM, name="Payments", prefix="PAYM")

    tickets = [_create(inbox)[0] for _ in range(3)]

    assert inbox.daily_limit_per_customer is None
    assert len({ticket.customer_id for ticket in tickets}) == 1
    assert Ticket.objects.filter(inbox=inbox).count() == 3


# Status -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["in_progress"], True),
        (["resolved"], True),
        (["closed"], True),
        (["closed", "open"], True),
        (["closed", "resolved"], False),
        (["closed", "in_progress"], False),
        (["resolved", "in_progress"], True),
    ],
)
def test_agent_status_moves_follow_the_map(ticket, agent, path, allowed):
    actor = Actor.agent(agent)
    *before, last = path
    for status in before:
        services.change_status(ticket=ticket, status=status, actor=actor)

    if allowed:
        assert services.change_status(ticket=ticket, status=last, actor=actor).status == last
    else:
        with pytest.raises(InvalidTransition):
            services.change_status(ticket=ticket, status=last, actor=actor)


def test_customer_may_close_but_not_resolve_their_ticket(ticket):
    customer = Actor.for_customer(ticket.customer)

    with pytest.raises(InvalidTransition):
        services.change_status(ticket=ticket, status="resolved", actor=customer)
    assert services.change_status(ticket=ticket, status="closed", actor=customer).status == "closed"
    with pytest.raises(InvalidTransition):
        services.change_status(ticket=ticket, status="open", actor=customer)


def test_another_customer_cannot_change_the_ticket(ticket, inbox):
    stranger = factories.make_ticket(inbox).customer

    with pytest.raises(PermissionDenied):
        services.change_status(ticket=ticket, status="closed", actor=Actor.for_customer(stranger))


def test_status_change_sets_timestamps_and_records_an_event(ticket, agent):
    resolved = services.change_status(ticket=ticket, status="resolved", actor=Actor.agent(agent))
    assert resolved.resolved_at is not None

    reopened = services.change_status(ticket=ticket, status="open", actor=Actor.agent(agent))
    assert reopened.resolved_at is None
    event = ticket.events.filter(action="status_changed").last()
    assert (event.before, event.after, event.actor_user) == ("resolved", "open", agent)


def test_unknown_status_is_invalid_input(ticket, agent):
    with pytest.raises(InvalidInput):
        services.change_status(ticket=ticket, status="done", actor=Actor.agent(agent))


# Messages -----------------------------------------------------------------------------


def test_first_agent_reply_sets_first_response_and_starts_work(ticket, agent):
    services.add_message(ticket=ticket, body="Looking into it.", actor=Actor.agent(agent))

    ticket.refresh_from_db()
    assert ticket.first_response_at is not None
    assert ticket.status == "in_progress"


def test_internal_note_is_no_first_response(ticket, agent):
    services.add_message(ticket=ticket, body="Hmm.", kind="note", actor=Actor.agent(agent))

    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    assert ticket.status == "open"


def test_customer_reply_reopens_a_resolved_ticket_and_is_refused_when_closed(ticket, agent):
    customer = Actor.for_customer(ticket.customer)
    services.change_status(ticket=ticket, status="resolved", actor=Actor.agent(agent))

    services.add_message(ticket=ticket, body="Still broken.", actor=customer)
    assert Ticket.objects.get(pk=ticket.pk).status == "open"

    services.change_status(ticket=ticket, status="closed", actor=Actor.agent(agent))
    with pytest.raises(InvalidTransition):
        services.add_message(ticket=ticket, body="Hello?", actor=customer)


def test_customers_cannot_add_notes(ticket):
    with pytest.raises(PermissionDenied):
        services.add_message(ticket=ticket, body="x", kind="note", actor=Actor.for_customer(ticket.customer))


# Assignment, updates, private link -----------------------------------------------------


def test_assign_refuses_an_agent_of_another_organization(ticket, other_agent):
    with pytest.raises(InvalidInput):
        services.assign(ticket=ticket, assignee=other_agent, actor=SYSTEM)


def test_assign_and_unassign_record_events(ticket, agent):
    services.assign(ticket=ticket, assignee=agent, actor=SYSTEM)
    services.assign(ticket=ticket, assignee=None, actor=SYSTEM)

    events = list(ticket.events.filter(action="assigned").values_list("before", "after"))
    assert events == [(None, agent.pk), (agent.pk, None)]


def test_update_ticket_records_one_event_per_changed_field(ticket, agent):
    services.update_ticket(
        ticket=ticket, actor=Actor.agent(agent), priority="high", category="billing", subject=ticket.subject
    )

    fields = sorted(ticket.events.filter(action="updated").values_list("field", flat=True))
    assert fields == ["category", "priority"]


def test_customers_cannot_edit_tickets(ticket):
    with pytest.raises(PermissionDenied):
        services.update_ticket(ticket=ticket, actor=Actor.for_customer(ticket.customer), priority="urgent")


def test_rotating_the_access_key_changes_the_private_link(ticket):
    old = ticket.access_key

    rotated = services.rotate_access_key(ticket=ticket, actor=SYSTEM)

    assert rotated.access_key != old
    assert rotated.access_key.startswith("tk_")


@pytest.mark.parametrize("name", ["vip\x00", "\ud800", "", "x" * 51])
def test_a_tag_name_that_cannot_be_stored_is_refused_on_every_path(organization, inbox, agent, name):
    ticket = factories.make_ticket(inbox)

    with pytest.raises(InvalidInput):
        services.get_or_create_tag(organization=organization, name=name)
    with pytest.raises(InvalidInput):
        services.update_ticket(ticket=ticket, tags=[name], actor=Actor.agent(agent))

    assert not ticket.tags.exists()
    assert not organization.tags.exists()
