"""The ticket page: thread and timeline, composer, properties, private link, attachments."""

from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from tickets import services
from tickets.downloads import attachment_download
from tickets.exceptions import HelpdeskError
from tickets.models import Attachment, Message, SavedReply, Ticket, TicketEvent
from tickets.rendering import render_markdown
from tickets.selectors import find_agent

from .common import agent_required, back_to_ticket, get_ticket, organization_tickets, report_error, ticket_url
from .forms import MessageForm, PropertiesForm
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
        .select_related("inbox", "customer", "assignee")
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
        if action == TicketEvent.Action.UPDATED:
            field = event.field.replace("_", " ")
            if event.field == "priority":
                before, after = _label(Ticket.Priority, event.before), _label(Ticket.Priority, event.after)
                return f"changed the priority from {before} to {after}"
            if isinstance(event.after, str | int | float) or event.after is None:
                return f"changed the {field} to “{event.after or '—'}”"
            return f"changed the {field}"
        return event.get_action_display().lower()


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


@require_GET
@agent_required
def timeline(request, public_id):
    """The thread alone, polled by the ticket page so a customer's reply shows up live."""
    ticket = get_ticket(request, public_id, _thread_queryset(request))
    agents = list(organization_agents(request.organization))
    return render(
        request, "dashboard/ticket.html#timeline", {"ticket": ticket, "timeline": _timeline(ticket, agents)}
    )


def _page_context(request, ticket, message_form=None):
    agents = list(organization_agents(request.organization))
    timeline = _timeline(ticket, agents)
    following, preceding, queue_query = _neighbours(request, ticket.public_id)
    other_tickets = list(
        Ticket.objects.filter(organization=request.organization, customer=ticket.customer)
        .exclude(pk=ticket.pk)
        .order_by("-created_at")
        .only("public_id", "reference", "subject", "status", "created_at")[:10]
    )
    tag_names = [tag.name for tag in ticket.tags.all()]
    return {
        "ticket": ticket,
        "timeline": timeline,
        "agents": agents,
        "statuses": Ticket.Status.choices,
        "priorities": Ticket.Priority.choices,
        "tag_names": ", ".join(tag_names),
        "tags": tag_names,
        "other_tickets": other_tickets,
        "participants": list(ticket.participants.select_related("customer")),
        "saved_replies": SavedReply.objects.filter(organization=request.organization).order_by("title"),
        "message_form": message_form or MessageForm(),
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
    }


@require_POST
@agent_required
def add_message(request, public_id):
    ticket = get_ticket(request, public_id)
    uploads = request.FILES.getlist("attachments")
    form = MessageForm(request.POST, files_list=uploads)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        ticket = get_ticket(request, public_id, _thread_queryset(request))
        return render(request, "dashboard/ticket.html", _page_context(request, ticket, form), status=400)

    kind = form.cleaned_data["kind"]
    attachments = [
        services.UploadedFile(
            filename=upload.name,
            content_type=upload.content_type or "application/octet-stream",
            content=upload.read(),
        )
        for upload in uploads
    ]
    # "Send and set pending" names the status with the button; the select names any other.
    status_after = (
        Ticket.Status.PENDING if "set_pending" in request.POST else form.cleaned_data["status_after"]
    )
    changes = {"status": status_after} if status_after else {}
    try:
        services.add_message(
            ticket=ticket,
            body=form.cleaned_data["body"],
            kind=kind,
            channel=Ticket.Channel.WEB,
            attachments=attachments,
            actor=request.actor,
            changes=changes,
        )
    except HelpdeskError as error:
        report_error(request, error)
        ticket = get_ticket(request, public_id, _thread_queryset(request))
        return render(request, "dashboard/ticket.html", _page_context(request, ticket, form), status=400)

    sent = "Internal note added." if kind == Message.Kind.NOTE else "Reply sent."
    if status_after:
        sent += f" The ticket is {Ticket.Status(status_after).label.lower()}."
    messages.success(request, sent)
    return back_to_ticket(request, ticket)


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
    sent = request.POST
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
    if changes:
        services.update_ticket(ticket=ticket, actor=request.actor, **changes)
    return bool(changes)


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
