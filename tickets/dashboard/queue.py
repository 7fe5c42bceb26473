"""The queue: saved views, filters, search, sort, pages, live rows and bulk actions."""

from django.contrib import messages
from django.db.models import IntegerField, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Organization, User
from tickets import services
from tickets.exceptions import HelpdeskError, InvalidInput
from tickets.models import Inbox, Tag, Ticket
from tickets.selectors import find_agent

from .common import agent_required, describe_error, organization_tickets, safe_next
from .filters import DEFAULT_VIEW, SAVED_VIEWS, SORTS, QueueFilter, apply_saved_view, ordered

PER_PAGE = 25
# Counts shown beside saved views and above the list stop here, so a million tickets
# cost what a thousand do.
COUNT_CAP = 1000
# The deepest page the queue shows. Past it a page number is no page at all: a 404, like
# any address that names nothing (``?page=99999999999999999999`` used to overflow the
# database's integers as an OFFSET, a 500). Narrow the queue with filters to go deeper.
MAX_PAGE = 10_000
SESSION_QUEUE = "dashboard_queue"
FILTER_FIELDS = ("status", "priority", "inbox", "assignee", "tag", "created_after", "created_before")


class CappedCount(Subquery):
    """COUNT(*) of a subquery that stops at its LIMIT."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS capped)"
    output_field = IntegerField()


def capped_counts(organization, **querysets) -> dict[str, int]:
    """Each queryset's count, up to COUNT_CAP + 1, all in one round trip."""
    counts = {
        name: CappedCount(queryset.order_by().values("pk")[: COUNT_CAP + 1])
        for name, queryset in querysets.items()
    }
    return Organization.objects.filter(pk=organization.pk).values(**counts).get()


def organization_agents(organization):
    return User.objects.filter(memberships__organization=organization, is_active=True).order_by(
        "name", "email"
    )


def _page_number(request) -> int:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        return 1
    if page > MAX_PAGE:
        raise Http404("No such page.")
    return max(page, 1)


def build_queue(request) -> dict:
    """The rows of the queue for this request's view, filters, sort and page.

    Pages are fetched one row long to know whether a next page exists, so no page ever
    counts the whole result.
    """
    view = request.GET.get("view") or DEFAULT_VIEW
    if view not in SAVED_VIEWS:
        view = DEFAULT_VIEW
    base = apply_saved_view(organization_tickets(request), view, request.user)
    queue_filter = QueueFilter(request.GET or None, queryset=base, request=request)
    tickets = queue_filter.qs if queue_filter.is_bound and queue_filter.is_valid() else base
    sort = request.GET.get("sort") or SAVED_VIEWS[view][2]
    if sort not in SORTS:
        sort = SAVED_VIEWS[view][2]
    page = _page_number(request)
    offset = (page - 1) * PER_PAGE
    rows = list(ordered(tickets, sort).for_list()[offset : offset + PER_PAGE + 1])
    has_next = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]

    query = request.GET.copy()
    query.pop("page", None)
    query_without_page = query.urlencode()
    _remember_queue(request, rows, request.GET.urlencode())
    everything = organization_tickets(request)
    counts = capped_counts(
        request.organization,
        total=tickets,
        **{name: apply_saved_view(everything, name, request.user) for name in ("mine", "unassigned", "open")},
    )
    return {
        "total": counts.pop("total"),
        "count_cap": COUNT_CAP,
        "view_counts": counts,
        "saved_views": [(name, label) for name, (label, _, _) in SAVED_VIEWS.items()],
        "view": view,
        "sort": sort,
        "filter": queue_filter,
        "tickets": rows,
        "page": page,
        "has_next": has_next,
        "has_previous": page > 1,
        "first_row": offset + 1 if rows else 0,
        "last_row": offset + len(rows),
        "query_without_page": query_without_page,
        "query": request.GET.urlencode(),
    }


def _remember_queue(request, rows, query: str) -> None:
    """The ticket page's "next ticket" follows the queue the agent last looked at."""
    remembered = {"ids": [ticket.public_id for ticket in rows], "query": query}
    if request.session.get(SESSION_QUEUE) != remembered:
        request.session[SESSION_QUEUE] = remembered


@require_GET
@agent_required
def queue(request):
    context = build_queue(request)
    organization = request.organization
    context.update(
        sorts=[(key, label) for key, (label, _) in SORTS.items()],
        inboxes=Inbox.objects.filter(organization=organization).order_by("name"),
        agents=list(organization_agents(organization)),
        tags=Tag.objects.filter(organization=organization).order_by("name"),
        statuses=Ticket.Status.choices,
        priorities=Ticket.Priority.choices,
        selected_statuses=request.GET.getlist("status"),
        filters_active=any(request.GET.get(name) for name in FILTER_FIELDS),
        selected_priorities=request.GET.getlist("priority"),
    )
    return render(request, "dashboard/queue.html", context)


@require_GET
@agent_required
def queue_rows(request):
    """The list and its counts, polled by the queue page so new and changed tickets appear.

    The saved views' counts ride along as an out-of-band swap.
    """
    context = build_queue(request)
    rows = render_to_string("dashboard/queue.html#live", context, request=request)
    counts = render_to_string("dashboard/queue.html#views", {**context, "oob": True}, request=request)
    return HttpResponse(rows + counts)


BULK_ACTIONS = {"assign", "status", "priority", "tag", "close"}


@require_POST
@agent_required
def bulk(request):
    """One action on many tickets, each through its service; refusals are reported per ticket."""
    back = safe_next(request, reverse("dashboard:queue"))
    action = request.POST.get("action", "")
    # Public ids are ULIDs; anything else names no ticket and never reaches the database
    # (PostgreSQL refuses a NUL in a query).
    public_ids = [value for value in request.POST.getlist("ticket") if len(value) <= 26 and value.isalnum()]
    if action not in BULK_ACTIONS:
        messages.error(request, "Choose what to do with the selected tickets.")
        return redirect(back)
    if not public_ids:
        messages.error(request, "Select at least one ticket.")
        return redirect(back)

    try:
        apply = _bulk_operation(request, action)
    except HelpdeskError as error:
        messages.error(request, describe_error(error))
        return redirect(back)

    tickets = organization_tickets(request).filter(public_id__in=public_ids[:200]).order_by("id")
    done, failures = 0, []
    for ticket in tickets:
        try:
            apply(ticket)
        except HelpdeskError as error:
            failures.append(f"{ticket.reference}: {describe_error(error)}")
        else:
            done += 1
    if done:
        messages.success(request, f"Updated {done} ticket{'s' if done != 1 else ''}.")
    elif not failures:
        messages.error(request, "None of the selected tickets was found.")
    for failure in failures:
        messages.error(request, failure)
    return redirect(back)


def _bulk_operation(request, action: str):
    actor = request.actor
    post = request.POST
    if action == "close":
        return lambda ticket: services.change_status(ticket=ticket, status=Ticket.Status.CLOSED, actor=actor)
    if action == "status":
        status = post.get("status", "")
        return lambda ticket: services.change_status(ticket=ticket, status=status, actor=actor)
    if action == "priority":
        priority = post.get("priority", "")
        return lambda ticket: services.update_ticket(ticket=ticket, priority=priority, actor=actor)
    if action == "tag":
        name = post.get("tag", "").strip()
        if not name:
            raise InvalidInput("tag", "Name the tag to add.")
        # Refused once, before any ticket is touched, rather than once per ticket.
        name = services.validate_tag_name(name, field_name="tag")

        def add_tag(ticket):
            names = [tag.name for tag in ticket.tags.all()]
            if name not in names:
                services.update_ticket(ticket=ticket, tags=[*names, name], actor=actor)

        return add_tag
    # assign
    value = post.get("assignee", "").strip()
    if not value:
        raise InvalidInput("assignee", "Choose an agent, or nobody.")
    assignee = (
        None if value == "none" else find_agent(organization_id=request.organization.pk, reference=value)
    )
    return lambda ticket: services.assign(ticket=ticket, assignee=assignee, actor=actor)
