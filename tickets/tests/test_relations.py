"""Merge, split and link (issue 16, item 9): the services every face calls."""

import pytest

from tickets import events, services
from tickets.actors import Actor
from tickets.exceptions import InvalidInput, MergeConflict, NotFound, PermissionDenied
from tickets.models import Draft, Message, Ticket, TicketEvent, TicketFollower, TicketLink
from tickets.selectors import links_of, merge_destination
from tickets.tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def actor(agent):
    return Actor.agent(agent)


@pytest.fixture
def target(inbox):
    return factories.make_ticket(inbox, email="jane@example.com", subject="Refund please", name="Jane")


@pytest.fixture
def source(inbox):
    return factories.make_ticket(
        inbox, email="john@example.com", subject="Refund again", message="Where is it?"
    )


def test_merge_moves_the_thread_closes_the_source_and_links_both(source, target, actor, agent):
    services.add_message(ticket=source, body="Still waiting.", actor=Actor.for_customer(source.customer))
    services.add_message(ticket=source, body="Looking into it.", kind="note", actor=actor)
    services.update_ticket(ticket=source, actor=actor, tags=["billing", "vip"])
    services.update_ticket(ticket=target, actor=actor, tags=["billing"])
    services.follow_ticket(ticket=source, actor=actor)
    services.save_draft(ticket=source, actor=actor, body="Half a reply", kind="reply")

    result = services.merge_tickets(source=source, target=target, actor=actor)

    source.refresh_from_db()
    target.refresh_from_db()
    assert result.pk == target.pk
    assert source.status == Ticket.Status.CLOSED
    assert source.merged_into_id == target.pk
    assert source.messages.count() == 0
    bodies = list(target.messages.order_by("created_at", "id").values_list("body", flat=True))
    # In the order they were written, the two threads interleaved (the source was opened first).
    assert bodies == ["Where is it?", "Help me please.", "Still waiting.", "Looking into it."]
    # The source customer's messages keep their author; the target keeps its customer.
    john = target.messages.get(body="Where is it?")
    assert john.author_customer_id == source.customer_id
    assert target.customer.email == "jane@example.com"
    assert sorted(tag.name for tag in target.tags.all()) == ["billing", "vip"]
    assert TicketFollower.objects.filter(ticket=target, user=agent).exists()
    assert list(target.participants.values_list("customer__email", flat=True)) == ["john@example.com"]
    assert not Draft.objects.filter(ticket=source).exists()
    assert target.customer_waiting_since is not None
    assert [(link.kind, link.other.reference) for link in links_of(source)] == [
        ("merged_into", target.reference)
    ]
    assert [(link.kind, link.other.reference) for link in links_of(target)] == [
        ("merged_from", source.reference)
    ]
    assert source.events.filter(action=TicketEvent.Action.MERGED, after=target.reference).exists()
    merged_from = target.events.get(action=TicketEvent.Action.MERGED)
    assert merged_from.after == {"ticket": source.reference, "messages": 3}


def test_merge_publishes_ticket_merged(source, target, actor, django_capture_on_commit_callbacks):
    heard = []
    events.subscribe(events.TicketMerged, heard.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.merge_tickets(source=source, target=target, actor=actor)
    finally:
        events._subscribers[events.TicketMerged].remove(heard.append)
    assert [(event.ticket_id, event.into_id, event.messages) for event in heard] == [
        (source.pk, target.pk, 1)
    ]


def test_merge_refusals_change_nothing(source, target, actor, inbox, other_inbox):
    with pytest.raises(InvalidInput):
        services.merge_tickets(source=source, target=source, actor=actor)
    foreign = factories.make_ticket(other_inbox)
    with pytest.raises(NotFound):
        services.merge_tickets(source=source, target=foreign, actor=actor)
    with pytest.raises(PermissionDenied):
        services.merge_tickets(source=source, target=target, actor=Actor.for_customer(source.customer))
    closed = factories.make_ticket(inbox)
    services.change_status(ticket=closed, status="closed", actor=actor)
    with pytest.raises(MergeConflict, match="closed"):
        services.merge_tickets(source=source, target=closed, actor=actor)

    source.refresh_from_db()
    assert source.merged_into_id is None
    assert source.status == Ticket.Status.OPEN
    assert source.messages.count() == 1
    assert not TicketLink.objects.exists()


def test_a_merged_ticket_cannot_be_merged_again_reopened_or_answered(source, target, actor, inbox):
    services.merge_tickets(source=source, target=target, actor=actor)
    third = factories.make_ticket(inbox)

    with pytest.raises(MergeConflict, match="already merged"):
        services.merge_tickets(source=source, target=third, actor=actor)
    with pytest.raises(MergeConflict, match="loop"):
        services.merge_tickets(source=target, target=source, actor=actor)
    with pytest.raises(MergeConflict, match="instead"):
        services.merge_tickets(source=third, target=source, actor=actor)
    with pytest.raises(MergeConflict):
        services.change_status(ticket=source, status="open", actor=actor)
    with pytest.raises(MergeConflict):
        services.add_message(ticket=source, body="Hello?", actor=actor)


def test_merges_of_merges_lead_to_the_last_ticket(source, target, actor, inbox):
    last = factories.make_ticket(inbox)
    services.merge_tickets(source=source, target=target, actor=actor)
    services.merge_tickets(source=target, target=last, actor=actor)

    source.refresh_from_db()
    assert merge_destination(source).pk == last.pk
    assert last.messages.count() == 3


def test_merging_does_not_mail_the_source_customer_that_their_ticket_closed(
    source, target, actor, mailoutbox, settings, django_capture_on_commit_callbacks
):
    settings.SUPPORT_EMAIL_SENDER = "console"
    with django_capture_on_commit_callbacks(execute=True):
        services.merge_tickets(source=source, target=target, actor=actor)
    assert not [email for email in mailoutbox if "john@example.com" in email.to]


def test_split_moves_a_message_into_a_new_linked_ticket(target, actor):
    later, _ = services.add_message(
        ticket=target, body="Also, my password reset fails.", actor=Actor.for_customer(target.customer)
    )

    new = services.split_ticket(ticket=target, message=later, actor=actor, subject="Password reset fails")

    assert new.customer_id == target.customer_id
    assert new.inbox_id == target.inbox_id
    assert new.subject == "Password reset fails"
    assert new.reference != target.reference
    assert list(new.messages.values_list("body", flat=True)) == ["Also, my password reset fails."]
    assert list(target.messages.values_list("body", flat=True)) == ["Help me please."]
    assert new.customer_waiting_since == later.created_at
    assert [(link.kind, link.other_id) for link in links_of(new)] == [("split_from", target.pk)]
    assert [(link.kind, link.other_id) for link in links_of(target)] == [("split_into", new.pk)]
    assert target.events.filter(action=TicketEvent.Action.SPLIT).exists()


def test_split_refuses_the_first_message_notes_and_other_tickets_messages(target, source, actor):
    first = target.messages.get()
    note, _ = services.add_message(ticket=target, body="Internal", kind="note", actor=actor)

    with pytest.raises(InvalidInput, match="first message"):
        services.split_ticket(ticket=target, message=first, actor=actor)
    with pytest.raises(InvalidInput, match="note"):
        services.split_ticket(ticket=target, message=note, actor=actor)
    with pytest.raises(InvalidInput, match="Not a message"):
        services.split_ticket(ticket=target, message=source.messages.get(), actor=actor)
    assert Ticket.objects.count() == 2
    assert Message.objects.filter(ticket=target).count() == 2


def test_link_is_symmetric_and_unlink_removes_both_sides(source, target, actor):
    assert services.link_tickets(ticket=source, other=target, actor=actor) is True
    assert services.link_tickets(ticket=target, other=source, actor=actor) is False

    assert [(link.kind, link.other_id) for link in links_of(source)] == [("related", target.pk)]
    assert [(link.kind, link.other_id) for link in links_of(target)] == [("related", source.pk)]
    assert target.events.filter(action=TicketEvent.Action.LINKED).count() == 1

    assert services.unlink_tickets(ticket=target, other=source, actor=actor) is True
    assert not TicketLink.objects.exists()
    assert services.unlink_tickets(ticket=target, other=source, actor=actor) is False


def test_link_refuses_itself_and_another_organization(source, actor, other_inbox):
    with pytest.raises(InvalidInput):
        services.link_tickets(ticket=source, other=source, actor=actor)
    with pytest.raises(NotFound):
        services.link_tickets(ticket=source, other=factories.make_ticket(other_inbox), actor=actor)
