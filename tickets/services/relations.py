"""How tickets relate: merging a duplicate into another, splitting a message off into a
ticket of its own, and linking related tickets (issue 16, item 9).

What a merge does with each part of the duplicate (the source) is Help Scout's and
Zendesk's answer, written down in docs/dashboard.md ("Merge, split, link"): the thread
moves to the target with its authors, attachments and email Message-IDs; the target keeps
its customer, fields, SLA clocks and rating; tags, followers and participants join the
target's; the source's customer is copied on the target; the source is closed for good and
its private link and the mail that answers it lead to the target.
"""

from django.db import transaction
from django.utils import timezone

from tickets import events, limits, search
from tickets.actors import Actor
from tickets.exceptions import InvalidInput, MergeConflict, NotFound, PermissionDenied
from tickets.models import Draft, Message, Participant, Ticket, TicketEvent, TicketFollower, TicketLink
from tickets.selectors import merge_destination

from .history import record_event
from .participants import MAX_PARTICIPANTS
from .tickets import set_status_locked, take_ticket_number
from .validation import validate_subject

Kind = TicketLink.Kind


def _agent_only(actor: Actor, what: str) -> None:
    if actor.is_customer:
        raise PermissionDenied(f"Only agents {what}.")


def _lock_pair(first: Ticket, second: Ticket) -> tuple[Ticket, Ticket]:
    """Both tickets locked, always in id order, so two merges of the same pair in opposite
    directions wait for each other instead of deadlocking."""
    locked = {
        ticket.pk: ticket
        for ticket in Ticket.objects.select_for_update()
        .select_related("organization", "inbox", "customer")
        .filter(pk__in=[first.pk, second.pk])
        .order_by("pk")
    }
    if first.pk not in locked or second.pk not in locked:
        raise NotFound("No such ticket.")
    return locked[first.pk], locked[second.pk]


def _check_merge(source: Ticket, target: Ticket) -> None:
    if source.merged_into_id is not None:
        into = Ticket.objects.filter(pk=source.merged_into_id).values_list("reference", flat=True).first()
        raise MergeConflict(f"{source.reference} was already merged into {into or 'another ticket'}.")
    if target.merged_into_id is not None:
        destination = merge_destination(target)
        if destination.pk == source.pk:
            raise MergeConflict(
                f"{target.reference} was merged into {source.reference}: merging back would make a loop."
            )
        raise MergeConflict(
            f"{target.reference} was merged into {destination.reference}; merge into that ticket instead."
        )
    if target.status == Ticket.Status.CLOSED:
        raise MergeConflict(f"{target.reference} is closed; reopen it before merging into it.")
    if source.redacted_at is not None or target.redacted_at is not None:
        raise MergeConflict("A ticket whose contents were erased cannot be merged.")


def recount_who_spoke_last(ticket: Ticket) -> dict:
    """A ticket's "who spoke last" columns worked out again from its public messages (a
    merge's target, a split's two tickets, the demo's back-dated threads)."""
    public = list(
        Message.objects.filter(ticket=ticket, kind=Message.Kind.REPLY)
        .order_by("created_at", "id")
        .values_list("author_type", "created_at")
    )
    customer_times = [at for author, at in public if author == Message.AuthorType.CUSTOMER]
    agent_times = [at for author, at in public if author != Message.AuthorType.CUSTOMER]
    last_agent = agent_times[-1] if agent_times else None
    waiting = next((at for at in customer_times if last_agent is None or at > last_agent), None)
    return {
        "last_customer_message_at": customer_times[-1] if customer_times else None,
        "last_agent_reply_at": last_agent,
        "customer_waiting_since": waiting,
    }


def _rebuild_search_documents(*tickets: Ticket) -> None:
    if search.is_supported():
        Ticket.objects.filter(pk__in=[ticket.pk for ticket in tickets]).update(
            search_document=search.rebuilt_document()
        )


def _link_both_ways(ticket: Ticket, other: Ticket, kind: str, reverse_kind: str) -> None:
    TicketLink.objects.bulk_create(
        [
            TicketLink(ticket=ticket, other=other, kind=kind),
            TicketLink(ticket=other, other=ticket, kind=reverse_kind),
        ],
        ignore_conflicts=True,
    )


def _merge_tags(source: Ticket, target: Ticket, actor: Actor) -> None:
    current = list(target.tags.all())
    names = {tag.name.lower() for tag in current}
    added = [tag for tag in source.tags.all() if tag.name.lower() not in names]
    added = added[: max(limits.TAGS_PER_TICKET - len(current), 0)]
    if not added:
        return
    target.tags.add(*added)
    before = sorted(tag.name for tag in current)
    after = sorted(before + [tag.name for tag in added])
    record_event(target, actor, TicketEvent.Action.TAGS_CHANGED, field="tags", before=before, after=after)


def _merge_people(source: Ticket, target: Ticket, actor: Actor) -> list[str]:
    """Followers and participants of the source join the target's, and the source's
    customer is copied on the target (its replies then thread there as a participant's).
    Returns the participants added."""
    following = set(target.followers.values_list("user_id", flat=True))
    TicketFollower.objects.bulk_create(
        [
            TicketFollower(ticket=target, user_id=user_id)
            for user_id in source.followers.values_list("user_id", flat=True)
            if user_id not in following
        ],
        ignore_conflicts=True,
    )
    present = set(target.participants.values_list("customer_id", flat=True)) | {target.customer_id}
    candidates = [source.customer, *(p.customer for p in source.participants.select_related("customer"))]
    room = MAX_PARTICIPANTS - (len(present) - 1)
    added = []
    for customer in candidates:
        if room <= 0:
            break
        if customer.pk in present or customer.erased_at is not None:
            continue
        Participant.objects.create(ticket=target, customer=customer)
        present.add(customer.pk)
        room -= 1
        label = customer.email or customer.name or customer.public_id
        added.append(label)
        record_event(target, actor, TicketEvent.Action.UPDATED, field="participants", after=label)
    return added


def merge_tickets(*, source: Ticket, target: Ticket, actor: Actor) -> Ticket:
    """Merge the duplicate ``source`` into ``target`` (of the same organization); returns
    the target.

    Refused, changing nothing: merging a ticket into itself or into another organization's
    (400, 404), a source merged already, a target merged (merging back would loop) or
    closed (409), and any customer (403).
    """
    _agent_only(actor, "merge tickets")
    if source.pk == target.pk:
        raise InvalidInput("into", "A ticket cannot be merged into itself.")
    if source.organization_id != target.organization_id:
        raise NotFound("No such ticket.")
    with transaction.atomic():
        source, target = _lock_pair(source, target)
        _check_merge(source, target)
        now = timezone.now()

        moved = Message.objects.filter(ticket=source).update(ticket=target)
        _merge_tags(source, target, actor)
        participants = _merge_people(source, target, actor)
        # A reply half-written on the duplicate is to a conversation that has moved.
        Draft.objects.filter(ticket=source).delete()

        columns = {**recount_who_spoke_last(target), "updated_at": now}
        for name, value in columns.items():
            setattr(target, name, value)
        target.save(update_fields=list(columns))
        source.merged_into = target
        source.updated_at = now
        source.save(update_fields=["merged_into", "updated_at"])
        if source.status != Ticket.Status.CLOSED:
            # merged_into is set first: the "your ticket is closed" mail is not sent for it.
            set_status_locked(source, Ticket.Status.CLOSED, actor)
        Ticket.objects.filter(pk=source.pk).update(
            last_customer_message_at=None, last_agent_reply_at=None, customer_waiting_since=None
        )
        _rebuild_search_documents(source, target)
        _link_both_ways(source, target, Kind.MERGED_INTO, Kind.MERGED_FROM)

        record_event(source, actor, TicketEvent.Action.MERGED, field="merged_into", after=target.reference)
        record_event(
            target,
            actor,
            TicketEvent.Action.MERGED,
            field="merged_from",
            after={"ticket": source.reference, "messages": moved},
        )
        organization_id = source.organization_id
        events.publish(
            events.TicketMerged(
                actor=actor,
                organization_id=organization_id,
                ticket_id=source.pk,
                into_id=target.pk,
                messages=moved,
            )
        )
        events.publish(
            events.TicketUpdated(
                actor=actor,
                organization_id=organization_id,
                ticket_id=source.pk,
                changes={"merged_into": (None, target.public_id)},
            )
        )
        target_changes = {"merged_from": (None, source.public_id)}
        if participants:
            target_changes["participants"] = (None, participants)
        events.publish(
            events.TicketUpdated(
                actor=actor, organization_id=organization_id, ticket_id=target.pk, changes=target_changes
            )
        )
    return target


def split_ticket(*, ticket: Ticket, message: Message, actor: Actor, subject: str = "") -> Ticket:
    """Make a public message of ``ticket`` the first message of a new ticket, linked to it.

    The message moves (with its author, attachments and email Message-ID, so mail that
    answers it threads onto the new ticket); the new ticket is the same customer's, in the
    same inbox, with the same priority, category and type, and ``subject`` or the
    original's. The ticket's first message and internal notes stay (400).
    """
    _agent_only(actor, "split tickets")
    if message.ticket_id != ticket.pk:
        raise InvalidInput("message", "Not a message of this ticket.")
    if message.kind != Message.Kind.REPLY:
        raise InvalidInput("message", "An internal note cannot become a ticket.")
    subject = validate_subject(subject or ticket.subject)
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update()
            .select_related("organization", "inbox", "customer")
            .get(pk=ticket.pk)
        )
        if ticket.merged_into_id is not None:
            raise MergeConflict(
                f"{ticket.reference} was merged; split its messages on the ticket it went to."
            )
        message = Message.objects.select_for_update().filter(pk=message.pk, ticket=ticket).first()
        if message is None:
            raise InvalidInput("message", "Not a message of this ticket.")
        first_id = (
            Message.objects.filter(ticket=ticket).order_by("created_at", "id").values_list("pk", flat=True)[0]
        )
        if message.pk == first_id:
            raise InvalidInput("message", "The first message opens this ticket; it cannot be split off.")

        now = timezone.now()
        new = Ticket(
            organization=ticket.organization,
            inbox=ticket.inbox,
            subject=subject,
            priority=ticket.priority,
            category=ticket.category,
            type=ticket.type,
            channel=message.channel,
            customer=ticket.customer,
            reply_address=ticket.reply_address,
            created_at=now,
            updated_at=now,
        )
        new.number, prefix = take_ticket_number(ticket.inbox)
        new.reference = f"{prefix}-{new.number}"
        new.save(force_insert=True)
        Message.objects.filter(pk=message.pk).update(ticket=new)
        for one in (ticket, new):
            columns = recount_who_spoke_last(one)
            for name, value in columns.items():
                setattr(one, name, value)
            Ticket.objects.filter(pk=one.pk).update(**columns)
        ticket.updated_at = now
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=now)
        _rebuild_search_documents(ticket, new)
        _link_both_ways(new, ticket, Kind.SPLIT_FROM, Kind.SPLIT_INTO)

        record_event(new, actor, TicketEvent.Action.CREATED, after={"status": new.status})
        record_event(new, actor, TicketEvent.Action.SPLIT, field="split_from", after=ticket.reference)
        record_event(
            ticket,
            actor,
            TicketEvent.Action.SPLIT,
            field="split_into",
            after={"ticket": new.reference, "message": message.public_id},
        )
        organization_id = ticket.organization_id
        events.publish(
            events.TicketCreated(actor=actor, organization_id=organization_id, ticket_id=new.pk, ticket=new)
        )
        events.publish(
            events.TicketSplit(
                actor=actor,
                organization_id=organization_id,
                ticket_id=ticket.pk,
                new_ticket_id=new.pk,
                message_id=message.pk,
            )
        )
    return new


def link_tickets(*, ticket: Ticket, other: Ticket, actor: Actor) -> bool:
    """Mark two tickets of one organization as related (both ways); True when new."""
    _agent_only(actor, "link tickets")
    if ticket.pk == other.pk:
        raise InvalidInput("ticket", "A ticket cannot be linked to itself.")
    if ticket.organization_id != other.organization_id:
        raise NotFound("No such ticket.")
    with transaction.atomic():
        ticket, other = _lock_pair(ticket, other)
        if TicketLink.objects.filter(ticket=ticket, other=other, kind=Kind.RELATED).exists():
            return False
        _link_both_ways(ticket, other, Kind.RELATED, Kind.RELATED)
        record_event(ticket, actor, TicketEvent.Action.LINKED, field="related", after=other.reference)
        record_event(other, actor, TicketEvent.Action.LINKED, field="related", after=ticket.reference)
        events.publish(
            events.TicketLinked(
                actor=actor, organization_id=ticket.organization_id, ticket_id=ticket.pk, other_id=other.pk
            )
        )
    return True


def unlink_tickets(*, ticket: Ticket, other: Ticket, actor: Actor) -> bool:
    """Undo ``link_tickets`` (both ways); True when they were related. A merge or a split
    is history and stays linked."""
    _agent_only(actor, "unlink tickets")
    with transaction.atomic():
        ticket, other = _lock_pair(ticket, other)
        deleted, _ = (
            TicketLink.objects.filter(kind=Kind.RELATED)
            .filter(ticket__in=[ticket, other], other__in=[ticket, other])
            .delete()
        )
        if not deleted:
            return False
        record_event(ticket, actor, TicketEvent.Action.UNLINKED, field="related", before=other.reference)
        record_event(other, actor, TicketEvent.Action.UNLINKED, field="related", before=ticket.reference)
        events.publish(
            events.TicketLinked(
                actor=actor,
                organization_id=ticket.organization_id,
                ticket_id=ticket.pk,
                other_id=other.pk,
                linked=False,
            )
        )
    return True
