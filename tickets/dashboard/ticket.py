"""The ticket page: thread and timeline, composer, properties, private link, attachments."""

import json
import secrets
from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tickets import limits, live, services
from tickets.downloads import attachment_download
from tickets.exceptions import HelpdeskError, InvalidInput, NewMessagesSinceSeen
from tickets.models import (
    Attachment,
    Customer,
    CustomField,
    Inbox,
    Message,
    Ticket,
    TicketEvent,
    TicketLink,
)
from tickets.rendering import render_markdown
from tickets.selectors import find_agent, links_of
from tickets.services.custom_fields import fields_for

from .common import (
    agent_required,
    back_to_ticket,
    describe_error,
    get_ticket,
    organization_tickets,
    report_error,
    ticket_url,
)
from .forms import MessageForm, NewConversationForm, NewTicketForm, PropertiesForm
from .live import (
    answers_unchanged,
    is_typing,
    presence_context,
    ticket_poller,
    ticket_token,
    unchanged_ticket,
)
from .queue import organization_agents, page_ids

# Shown as messages already; the timeline would only repeat them.
_MESSAGE_EVENTS = {
    TicketEvent.Action.CREATED,
    TicketEvent.Action.REPLIED,
    TicketEvent.Action.NOTE_ADDED,
}


def _thread_queryset(request):
    thread = Message.objects.select_related("author_user", "author_customer").prefetch_related(
        "attachments", "deliveries"
    )
    return (
        organization_tickets(request)
        .select_related("inbox", "customer", "assignee", "sla_policy", "satisfaction")
        .prefetch_related("tags", Prefetch("messages", queryset=thread))
    )


class EventView:
    """One event, said in words for the timeline."""

    def __init__(self, event: TicketEvent, agents_by_id: dict):
        self.event = event
        self.created_at = event.created_at
        self.actor = event.actor_label
        self.text = self._describe(event, agents_by_id)

    @staticmethod
    def _agent(pk, agents_by_id) -> str:
        if pk is None:
            return "nobody"
        agent = agents_by_id.get(pk)
        return agent.display_name if agent else "a former agent"

    def _describe(self, event, agents_by_id) -> str:
        action = event.action
        if action == TicketEvent.Action.STATUS_CHANGED:
            before, after = _label(Ticket.Status, event.before), _label(Ticket.Status, event.after)
            return f"changed the status from {before} to {after}"
        if action == TicketEvent.Action.ASSIGNED:
            if event.after is None:
                return f"unassigned the ticket (was {self._agent(event.before, agents_by_id)})"
            return f"assigned the ticket to {self._agent(event.after, agents_by_id)}"
        if action == TicketEvent.Action.TAGS_CHANGED:
            return f"changed tags to {', '.join(event.after or []) or 'none'}"
        if action == TicketEvent.Action.ACCESS_KEY_ROTATED:
            return "rotated the private link"
        if action in (TicketEvent.Action.SLA_WARNING, TicketEvent.Action.SLA_BREACHED):
            target = event.field.replace("_", " ")
            if action == TicketEvent.Action.SLA_BREACHED:
                return f"recorded: SLA breached, the {target} target was missed"
            return f"warned: SLA {target} target due soon"
        if action == TicketEvent.Action.SATISFACTION_RATED:
            return f"rated the support {event.after}"
        if action == TicketEvent.Action.SLA_APPLIED:
            return f"applied the SLA policy “{event.after or 'none'}”"
        if action in _RELATION_WORDS:
            return self._relation(event)
        if action == TicketEvent.Action.UPDATED:
            field = event.field.replace("_", " ")
            if event.field == "priority":
                before, after = _label(Ticket.Priority, event.before), _label(Ticket.Priority, event.after)
                return f"changed the priority from {before} to {after}"
            if isinstance(event.after, str | int | float) or event.after is None:
                return f"changed the {field} to “{event.after or '—'}”"
            return f"changed the {field}"
        return event.get_action_display().lower()

    @staticmethod
    def _relation(event) -> str:
        value = event.after if event.after is not None else event.before
        reference = value.get("ticket", "") if isinstance(value, dict) else value
        if event.field == "merged_from":
            count = value.get("messages", 0) if isinstance(value, dict) else 0
            moved = f" ({count} message{'s' if count != 1 else ''} moved here)" if count else ""
            return f"merged {reference} into this ticket{moved}"
        words = _RELATION_WORDS[event.action].get(event.field, event.get_action_display().lower())
        return f"{words} {reference}"


# How the timeline says a merge, split or link, by the event's field.
_RELATION_WORDS = {
    TicketEvent.Action.MERGED: {"merged_into": "merged this ticket into"},
    TicketEvent.Action.SPLIT: {
        "split_into": "split a message off into",
        "split_from": "opened this ticket with a message split off from",
    },
    TicketEvent.Action.LINKED: {"related": "linked this ticket to"},
    TicketEvent.Action.UNLINKED: {"related": "removed the link to"},
}


def _label(choices, value) -> str:
    try:
        return choices(value).label.lower()
    except ValueError:
        return str(value)


def _neighbours(request, public_id: str) -> tuple[str | None, str | None, str]:
    """The tickets after and before this one in the queue page it was opened from."""
    query = request.GET.get("queue", "")
    ids = page_ids(request, query) if query else []
    if public_id not in ids:
        return (ids[0] if ids else None), None, query
    index = ids.index(public_id)
    following = ids[index + 1] if index + 1 < len(ids) else None
    preceding = ids[index - 1] if index > 0 else None
    return following, preceding, query


@require_GET
@agent_required
def ticket_page(request, public_id):
    ticket = get_ticket(request, public_id, _thread_queryset(request))
    return render(request, "dashboard/ticket.html", _page_context(request, ticket))


def _timeline(ticket, agents) -> list[tuple]:
    """Messages and events in the order they happened, as ``(kind, when, item)``."""
    agents_by_id = {agent.pk: agent for agent in agents}
    events = [
        EventView(event, agents_by_id)
        for event in ticket.events.exclude(action__in=_MESSAGE_EVENTS).order_by("created_at", "id")
    ]
    return sorted(
        [("message", message.created_at, message) for message in ticket.messages.all()]
        + [("event", event.created_at, event) for event in events],
        key=lambda item: (item[1], item[0] == "event"),
    )


@answers_unchanged(unchanged_ticket)
@require_GET
@agent_required
def timeline(request, public_id):
    """The thread and who else is here, polled by the ticket page every 5 seconds so a
    customer's reply, a colleague's note and a colleague opening the ticket show up live.

    A poll with nothing new is answered from the cache (``UnchangedPollMiddleware``) and
    never reaches this view. The version is read before the thread: a change committed
    in between is shown at the next poll rather than missed.
    """
    poller = ticket_poller(request, public_id)
    version = live.ticket_version(poller.ticket_id) if poller and poller.ticket_id else None
    ticket = get_ticket(request, public_id, _thread_queryset(request))
    agents = list(organization_agents(request.organization))
    viewers = _here(request, ticket, typing=is_typing(request))
    context = {
        "ticket": ticket,
        "timeline": _timeline(ticket, agents),
        "first_message_id": _first_message_id(ticket),
        "live_token": ticket_token(
            request, ticket, version if poller and poller.ticket_id == ticket.pk else None
        ),
    }
    thread = render_to_string("dashboard/ticket.html#timeline", context, request=request)
    presence = render_to_string("dashboard/ticket.html#presence", presence_context(viewers, oob=True))
    return HttpResponse(thread + presence)


def _here(request, ticket, *, typing: bool = False) -> list[live.Viewer]:
    return live.here(
        ticket_id=ticket.pk, user_id=request.user.pk, name=request.user.display_name, typing=typing
    )


def _first_message_id(ticket) -> str:
    """The message that opens the ticket (never split off), from the prefetched thread."""
    first = min(ticket.messages.all(), key=_thread_order, default=None)
    return first.public_id if first else ""


def _newest_message(ticket) -> Message | None:
    return max(ticket.messages.all(), key=_thread_order, default=None)


def _thread_order(message: Message) -> tuple:
    return (message.created_at, message.pk)


def _page_context(request, ticket, message_form=None, *, seen_message=None, unseen_messages=None):
    agents = list(organization_agents(request.organization))
    draft = services.draft_for(ticket, request.user) if message_form is None else None
    if message_form is None:
        message_form = MessageForm(
            initial={"kind": draft.kind if draft else Message.Kind.REPLY, "body": draft.body if draft else ""}
        )
    # A composer shown again after a refusal keeps its token: the send was not made.
    submission = message_form.data.get("submission") if message_form.is_bound else ""
    if seen_message is None and message_form.is_bound and "seen_message" in message_form.data:
        # Refused for another reason: what the agent had seen is still what they saw.
        seen_message = message_form.data["seen_message"]
    timeline = _timeline(ticket, agents)
    following, preceding, queue_query = _neighbours(request, ticket.public_id)
    other_tickets = list(
        Ticket.objects.filter(organization=request.organization, customer=ticket.customer)
        .exclude(pk=ticket.pk)
        .order_by("-created_at")
        .only("public_id", "reference", "subject", "status", "created_at")[:10]
    )
    tag_names = [tag.name for tag in ticket.tags.all()]
    links = links_of(ticket)
    return {
        "links": links,
        "merged_into": next((link.other for link in links if link.kind == TicketLink.Kind.MERGED_INTO), None),
        # Its first message opens the ticket: every later public one may be split off.
        "first_message_id": _first_message_id(ticket),
        "ticket": ticket,
        "timeline": timeline,
        "agents": agents,
        "statuses": Ticket.Status.choices,
        "priorities": Ticket.Priority.choices,
        "tag_names": ", ".join(tag_names),
        "tags": tag_names,
        "other_tickets": other_tickets,
        "participants": list(ticket.participants.select_related("customer")),
        "message_form": message_form,
        "draft": draft,
        "following": ticket.followers.filter(user=request.user).exists(),
        # The team, for the composer's @mention list (an attribute: data, never a script).
        "mention_agents_json": json.dumps(
            [
                {"name": agent.display_name, "email": agent.email}
                for agent in agents
                if agent.has_usable_password()
            ]
        ),
        "submission": submission or secrets.token_urlsafe(16),
        "message_max_length": limits.MESSAGE_MAX_LENGTH,
        "next_ticket": following,
        "previous_ticket": preceding,
        "next_url": ticket_url(following, queue_query) if following else "",
        "previous_url": ticket_url(preceding, queue_query) if preceding else "",
        # Forms on the page come back to it with the same queue.
        "queue_suffix": f"?{urlencode({'queue': queue_query})}" if queue_query else "",
        "queue_url": reverse("dashboard:queue") + (f"?{queue_query}" if queue_query else ""),
        "private_url": ticket.private_url,
        "metadata_items": sorted((ticket.customer.metadata or {}).items()),
        "ticket_metadata_items": sorted((ticket.metadata or {}).items()),
        "custom_fields": _custom_field_rows(ticket),
        # The composer names the newest message the agent saw: a message someone else
        # writes after it is shown before the reply goes (a refusal keeps what it showed).
        "seen_message": seen_message
        if seen_message is not None
        else getattr(_newest_message(ticket), "public_id", ""),
        "unseen_messages": unseen_messages or [],
        # The first poll renders the thread again: this page read no version before it.
        "live_token": ticket_token(request, ticket, None),
        **presence_context(_here(request, ticket)),
    }


def _custom_field_rows(ticket) -> list[dict]:
    """The inbox's custom fields with the ticket's values, for the sidebar."""
    values = ticket.custom_fields or {}
    return [
        {"field": field, "value": values.get(key), "name": f"cf.{key}", "id": f"cf-{key}"}
        for key, field in fields_for(ticket.organization_id, ticket.inbox_id).items()
    ]


def _custom_field_changes(ticket, sent) -> dict:
    """The custom fields the sidebar sent, as update_ticket's ``custom_fields``: an emptied
    field clears its value; the services check each value by type."""
    changes = {}
    current = ticket.custom_fields or {}
    for key, field in fields_for(ticket.organization_id, ticket.inbox_id).items():
        name = f"cf.{key}"
        if f"{name}.shown" not in sent:
            continue
        if field.type == CustomField.Type.CHECKBOX:
            value = name in sent
        elif field.type == CustomField.Type.MULTI_SELECT:
            value = sent.getlist(name) or None
        else:
            value = sent.get(name, "").strip() or None
            if value is not None and field.type == CustomField.Type.NUMBER:
                value = int(value) if value.lstrip("-").isdigit() else value
        if value != current.get(key) and not (value is None and key not in current):
            changes[key] = value
    return changes


@require_POST
@agent_required
def add_message(request, public_id):
    """Send the composer: the message, the status it asks for, and the sidebar's unsaved
    changes (the page's script copies them in as ``property-*`` fields), in one service
    call: all of it happens, or none of it and the agent sees why, by the field.

    The form's ``submission`` token is the call's idempotency key: a second press of Send
    (or Ctrl+Enter twice) finds the first message and sends nothing again.
    """
    ticket = get_ticket(request, public_id)
    uploads = request.FILES.getlist("attachments")
    form = MessageForm(request.POST, files_list=uploads)
    if not form.is_valid():
        return _composer_refused(request, public_id, form)

    kind = form.cleaned_data["kind"]
    attachments = _attachments_of(uploads)
    try:
        changes = _property_changes(request, ticket, prefix="property-")
        # "Send and set pending" names the status with the button; the select names any other.
        status_after = (
            Ticket.Status.PENDING if "set_pending" in request.POST else form.cleaned_data["status_after"]
        )
        if status_after:
            changes["status"] = status_after
        message, created = services.add_message(
            ticket=ticket,
            body=form.cleaned_data["body"],
            kind=kind,
            channel=Ticket.Channel.WEB,
            attachments=attachments,
            actor=request.actor,
            changes=changes,
            idempotency_key=form.cleaned_data["submission"],
            # Pages without the field (older tabs, scripts) are not asked.
            seen_message=request.POST.get("seen_message") if "seen_message" in request.POST else None,
        )
    except NewMessagesSinceSeen as error:
        return _composer_refused(request, public_id, form, unseen=error)
    except HelpdeskError as error:
        field = getattr(error, "field", None)
        form.add_error(field if field in ("body", "kind", "status_after") else None, describe_error(error))
        return _composer_refused(request, public_id, form)

    if not created:
        messages.info(request, "Already sent: that reply went out once.")
        return back_to_ticket(request, ticket)
    sent = "Internal note added." if kind == Message.Kind.NOTE else "Reply sent."
    if "status" in changes:
        sent += f" The ticket is {Ticket.Status(changes['status']).label.lower()}."
    messages.success(request, sent)
    return back_to_ticket(request, ticket)


def _composer_refused(request, public_id, form, unseen: NewMessagesSinceSeen | None = None):
    """The ticket page again with the composer as typed and each error beside its field.

    New messages since the agent's page (``unseen``) are a 409 that shows them in the
    composer; the composer then names the newest as seen, so "Send anyway" sends.
    """
    ticket = get_ticket(request, public_id, _thread_queryset(request))
    if unseen is None:
        return render(request, "dashboard/ticket.html", _page_context(request, ticket, form), status=400)
    context = _page_context(
        request, ticket, form, seen_message=unseen.messages[-1].public_id, unseen_messages=unseen.messages
    )
    context["unseen_error"] = unseen.message
    return render(request, "dashboard/ticket.html", context, status=409)


@require_POST
@agent_required
def save_draft(request, public_id):
    """The composer's text, kept as the agent types (the page's script posts it)."""
    ticket = get_ticket(request, public_id)
    try:
        draft = services.save_draft(
            ticket=ticket,
            actor=request.actor,
            body=request.POST.get("body", ""),
            kind=request.POST.get("kind", Message.Kind.REPLY),
        )
    except HelpdeskError as error:
        return HttpResponse(describe_error(error), status=400, content_type="text/plain; charset=utf-8")
    return HttpResponse(
        "Draft saved." if draft else "Draft removed.", content_type="text/plain; charset=utf-8"
    )


@require_POST
@agent_required
def update(request, public_id):
    """Apply the fields this form sent (the sidebar sends all, quick buttons one)."""
    ticket = get_ticket(request, public_id)
    form = PropertiesForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{field.capitalize()}: {error}")
        return back_to_ticket(request, ticket)
    try:
        # One form, one change: a refused field leaves the fields before it unapplied too.
        with transaction.atomic():
            changed = _apply_properties(request, ticket, form.cleaned_data)
    except HelpdeskError as error:
        report_error(request, error)
    else:
        messages.success(request, "Ticket updated." if changed else "Nothing to change.")
    return back_to_ticket(request, ticket)


def _apply_properties(request, ticket, data) -> bool:
    """The sidebar's changes, as one update_ticket call; whether anything changed."""
    changes = _changes_from(request.POST, ticket, data, request)
    if changes:
        services.update_ticket(ticket=ticket, actor=request.actor, **changes)
    return bool(changes)


def _property_changes(request, ticket, *, prefix: str) -> dict:
    """The sidebar's fields sent along with another form under ``prefix``: what changed."""
    sent = QueryDict(mutable=True)
    for name in request.POST:
        if name.startswith(prefix):
            sent.setlist(name.removeprefix(prefix), request.POST.getlist(name))
    if not sent:
        return {}
    form = PropertiesForm(sent)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        raise InvalidInput(field, errors[0])
    return _changes_from(sent, ticket, form.cleaned_data, request)


def _changes_from(sent, ticket, data, request) -> dict:
    """update_ticket's keywords for what the sidebar's fields changed, against what the
    page showed (``*_was``): a field left as it was asks for nothing."""
    changes = {}
    if "assignee" in sent:
        assignee = _assignee(request, data["assignee"])
        if assignee != ticket.assignee:
            changes["assignee"] = assignee
    if "priority" in sent and data["priority"] and data["priority"] != ticket.priority:
        changes["priority"] = data["priority"]
    if "category" in sent and data["category"] != ticket.category:
        changes["category"] = data["category"]
    if "tags" in sent:
        # Only what this agent changed in the field, against what the page showed: a tag
        # someone else added meanwhile stays.
        shown = set(data["tags_was"]) if "tags_was" in sent else {tag.name for tag in ticket.tags.all()}
        wanted = set(data["tags"])
        if wanted - shown:
            changes["add_tags"] = sorted(wanted - shown)
        if shown - wanted:
            changes["remove_tags"] = sorted(shown - wanted)
    # Compared with the status the form showed: a select left as it was asks for nothing.
    status_was = sent.get("status_was", ticket.status)
    if "status" in sent and data["status"] and data["status"] != status_was:
        changes["status"] = data["status"]
    custom_fields = _custom_field_changes(ticket, sent)
    if custom_fields:
        changes["custom_fields"] = custom_fields
    return changes


def _assignee(request, value: str):
    if value in ("", "none"):
        return None
    return find_agent(organization_id=request.organization.pk, reference=value)


@require_POST
@agent_required
def take(request, public_id):
    """Assign the ticket to the agent who pressed the button."""
    ticket = get_ticket(request, public_id)
    try:
        services.assign(ticket=ticket, assignee=request.user, actor=request.actor)
    except HelpdeskError as error:
        report_error(request, error)
    else:
        messages.success(request, f"{ticket.reference} is yours.")
    return back_to_ticket(request, ticket)


@require_POST
@agent_required
def rotate_link(request, public_id):
    ticket = get_ticket(request, public_id)
    try:
        services.rotate_access_key(ticket=ticket, actor=request.actor)
    except HelpdeskError as error:
        report_error(request, error)
    else:
        messages.success(request, "The private link was replaced; the old one no longer works.")
    return back_to_ticket(request, ticket)


@require_POST
@agent_required
def add_participant(request, public_id):
    ticket = get_ticket(request, public_id)
    try:
        participant = services.add_participant(
            ticket=ticket, email=request.POST.get("email", "")[:320], actor=request.actor
        )
    except HelpdeskError as error:
        report_error(request, error)
    else:
        messages.success(request, f"{participant.customer.email} now receives the replies.")
    return back_to_ticket(request, ticket)


@require_POST
@agent_required
def remove_participant(request, public_id, participant_id):
    ticket = get_ticket(request, public_id)
    participant = ticket.participants.select_related("customer").filter(pk=participant_id).first()
    if participant is None:
        raise Http404
    try:
        services.remove_participant(ticket=ticket, participant=participant, actor=request.actor)
    except HelpdeskError as error:
        report_error(request, error)
    else:
        messages.success(request, f"{participant.customer.email} no longer receives the replies.")
    return back_to_ticket(request, ticket)


@require_POST
@agent_required
def preview(request):
    """The composer's Markdown as it will be shown, sanitized like every message."""
    body = request.POST.get("body", "")
    html = render_markdown(body) if body.strip() else '<p class="muted">Nothing to preview.</p>'
    return HttpResponse(html)


@require_GET
@agent_required
def attachment(request, public_id):
    """An attachment of a ticket of the current organization, as a download."""
    found = (
        Attachment.objects.select_related("message__ticket")
        .filter(public_id=public_id, message__ticket__organization=request.organization)
        .first()
    )
    if found is None:
        raise Http404("No such attachment.")
    return attachment_download(found)


@require_POST
@agent_required
def follow(request, public_id):
    """Follow (or, with ``unfollow``, stop following) the ticket."""
    ticket = get_ticket(request, public_id)
    try:
        if "unfollow" in request.POST:
            services.unfollow_ticket(ticket=ticket, actor=request.actor)
            messages.success(request, f"You no longer follow {ticket.reference}.")
        else:
            services.follow_ticket(ticket=ticket, actor=request.actor)
            messages.success(request, f"You follow {ticket.reference}: its replies and notes reach you.")
    except HelpdeskError as error:
        report_error(request, error)
    return back_to_ticket(request, ticket)


@require_http_methods(["GET", "POST"])
@agent_required
def new_ticket(request):
    """Open a ticket for a customer on the phone or at the desk (channel "agent")."""
    inboxes = _inboxes_to_open_in(request)
    form = NewTicketForm(
        request.POST or None,
        inboxes=inboxes,
        initial=_one_submission(),
        files_list=request.FILES.getlist("attachments"),
    )
    if request.method == "POST" and form.is_valid():
        opened = _open_from_form(
            request,
            form,
            inboxes,
            priority=form.cleaned_data["priority"],
            channel=Ticket.Channel.AGENT,
            success=lambda ticket: f"{ticket.reference} opened for {ticket.customer.display_name}.",
        )
        if opened is not None:
            return opened
    status = 400 if request.method == "POST" else 200
    return render(request, "dashboard/new_ticket.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@agent_required
def new_conversation(request):
    """Start a conversation by email: the agent's message opens the ticket and is mailed to
    the customer from the inbox (``?customer=<id>`` fills in a known customer)."""
    inboxes = _inboxes_to_open_in(request)
    initial = _one_submission()
    known = request.GET.get("customer")
    if known:
        customer = Customer.objects.filter(organization=request.organization, public_id=known).first()
        if customer is not None and customer.email:
            initial.update(email=customer.email, name=customer.name)
    form = NewConversationForm(
        request.POST or None,
        inboxes=inboxes,
        initial=initial,
        files_list=request.FILES.getlist("attachments"),
    )
    if request.method == "POST" and form.is_valid():
        opened = _open_from_form(
            request,
            form,
            inboxes,
            channel=Ticket.Channel.EMAIL,
            outbound=True,
            success=lambda ticket: (
                f"{ticket.reference}: your email to {ticket.customer.email} is on its way."
            ),
        )
        if opened is not None:
            return opened
    status = 400 if request.method == "POST" else 200
    return render(request, "dashboard/new_conversation.html", {"form": form}, status=status)


def _attachments_of(uploads) -> list:
    return [
        services.UploadedFile(
            filename=upload.name,
            content_type=upload.content_type or "application/octet-stream",
            content=upload.read(),
        )
        for upload in uploads
    ]


def _inboxes_to_open_in(request) -> list[Inbox]:
    return list(Inbox.objects.filter(organization=request.organization).order_by("-is_default", "name"))


def _one_submission() -> dict:
    # The create's idempotency key, one per rendered form: pressing the button twice (or
    # sending the form again after a timeout) opens one ticket and sends one email.
    return {"submission": secrets.token_urlsafe(16)}


def _open_from_form(request, form, inboxes, *, success, **how):
    """Open the ticket a valid "new ticket" or "new email" form describes, and go to it; or
    None, with the service's refusal on the form."""
    data = form.cleaned_data
    inbox = next(inbox for inbox in inboxes if inbox.public_id == data["inbox"])
    try:
        ticket, _ = services.create_ticket(
            inbox=inbox,
            customer=services.CustomerData(email=data["email"], name=data["name"]),
            subject=data["subject"],
            message=data["message"],
            attachments=_attachments_of(form.files_list),
            idempotency_key=data["submission"],
            actor=request.actor,
            **how,
        )
    except HelpdeskError as error:
        field = (getattr(error, "field", None) or "").removeprefix("customer.")
        form.add_error(field if field in form.fields else None, describe_error(error))
        return None
    messages.success(request, success(ticket))
    return back_to_ticket(request, ticket)
