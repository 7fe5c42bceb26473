"""The queue: saved views, filters, search, sort, pages, live rows and bulk actions."""

import csv

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Organization, User
from tickets import live, services
from tickets.exceptions import HelpdeskError, InvalidInput
from tickets.models import CustomField, Inbox, Tag, Ticket
from tickets.pagination import CappedCount, CappedCountPaginator, positive_number
from tickets.selectors import find_agent

from .common import agent_required, describe_error, organization_tickets, safe_next
from .filters import DEFAULT_VIEW, SAVED_VIEWS, SORTS, QueueFilter, apply_saved_view, ordered, time_column
from .live import answers_unchanged, queue_token, unchanged_queue

PER_PAGE = 25
# Counts shown beside saved views stop here, so a million tickets cost what a thousand do
# ("1000+"). The list's own total and its pages reach as far as the shared paginator's cap.
COUNT_CAP = 1000
FILTER_FIELDS = ("status", "priority", "inbox", "assignee", "tag", "sla", "created_after", "created_before")


def capped_counts(organization, total: QuerySet, **views: QuerySet) -> dict[str, int]:
    """The list's count (capped as the paginator caps it) and each saved view's (capped at
    COUNT_CAP), all in one round trip."""
    counts = {"total": CappedCount(total, CappedCountPaginator.cap)}
    counts.update({name: CappedCount(queryset, COUNT_CAP) for name, queryset in views.items()})
    return Organization.objects.filter(pk=organization.pk).values(**counts).get()


def organization_agents(organization):
    return User.objects.filter(memberships__organization=organization, is_active=True).order_by(
        "name", "email"
    )


def _queue_selection(request, params):
    """The saved view, filter, tickets and sort that a queue query string names."""
    view = params.get("view") or DEFAULT_VIEW
    if view not in SAVED_VIEWS:
        view = DEFAULT_VIEW
    base = apply_saved_view(organization_tickets(request), view, request.user)
    queue_filter = QueueFilter(params or None, queryset=base, request=request)
    tickets = queue_filter.qs if queue_filter.is_bound and queue_filter.is_valid() else base
    sort = params.get("sort") or SAVED_VIEWS[view][2]
    if sort not in SORTS:
        sort = SAVED_VIEWS[view][2]
    return view, queue_filter, tickets, sort


def page_ids(request, queue_query: str) -> list[str]:
    """The tickets (public ids, in order) of the queue page that ``queue_query`` showed.

    For the ticket page's "next" and "previous": one query on ids, no count. The queue an
    agent came from travels in the URL, so browsing writes nothing.
    """
    params = QueryDict(queue_query)
    _, _, tickets, sort = _queue_selection(request, params)
    page = min(positive_number(params.get("page")) or 1, CappedCountPaginator.cap // PER_PAGE)
    start = (page - 1) * PER_PAGE
    return list(ordered(tickets, sort).values_list("public_id", flat=True)[start : start + PER_PAGE])


def build_queue(request) -> dict:
    """The rows of the queue for this request's view, filters, sort and page.

    Pages come from the shared paginator: its count stops at its cap and a deep page
    finds its ids first. A page number that is not one (or lies past the end) shows the
    first (or the last) page, as Django's ``Paginator.get_page`` does for HTML pages.
    """
    view, queue_filter, tickets, sort = _queue_selection(request, request.GET)
    everything = organization_tickets(request)
    counts = capped_counts(
        request.organization,
        tickets,
        **{name: apply_saved_view(everything, name, request.user) for name in ("mine", "unassigned", "open")},
    )
    paginator = CappedCountPaginator(ordered(tickets, sort).for_list(), PER_PAGE, count=counts.pop("total"))
    page = paginator.get_page(positive_number(request.GET.get("page")) or 1)
    rows = list(page.object_list)

    query = request.GET.copy()
    query.pop("page", None)
    query_without_page = query.urlencode()
    return {
        # As far as the pages reach ("10000+" past the paginator's cap); the saved views'
        # badges stop at COUNT_CAP ("1000+").
        "total": paginator.total,
        "total_is_capped": paginator.total_is_capped,
        "count_cap": COUNT_CAP,
        "view_counts": counts,
        "saved_views": [(name, label) for name, (label, _, _) in SAVED_VIEWS.items()],
        "view": view,
        "sort": sort,
        "time_column": time_column(sort),
        "filter": queue_filter,
        "tickets": rows,
        "page": page.number,
        "has_next": page.has_next(),
        "has_previous": page.has_previous(),
        "first_row": page.start_index() if rows else 0,
        "last_row": page.end_index() if rows else 0,
        "query_without_page": query_without_page,
        "query": request.GET.urlencode(),
    }


@require_GET
@agent_required
def queue(request):
    context = build_queue(request)
    # The page reads no version (no cache round trip on the page itself): its first poll
    # renders in full and hands over the token later polls send.
    context["live_token"] = queue_token(request, None)
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
        custom_fields=_custom_field_filters(request, organization),
    )
    context["filters_active"] = context["filters_active"] or any(
        name.startswith("cf.") and value for name, value in request.GET.items()
    )
    return render(request, "dashboard/queue.html", context)


EXPORT_MAX_ROWS = 10_000


class _Echo:
    def write(self, value):
        return value


def _spreadsheet_safe(value) -> str:
    # Text starting with = + - @ would run as a formula when the file is opened.
    text = "" if value is None else (";".join(value) if isinstance(value, list) else str(value))
    return f"'{text}" if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


@require_GET
@agent_required
def queue_csv(request):
    """The queue's tickets (its view, filters and sort) as CSV, with a column per custom
    field; at most 10,000 rows, read in batches."""
    _, _, tickets, sort = _queue_selection(request, request.GET)
    fields = list(CustomField.objects.filter(organization=request.organization))
    rows = (
        ordered(tickets, sort)
        .select_related("inbox", "customer", "assignee")
        .prefetch_related("tags")[:EXPORT_MAX_ROWS]
    )
    header = [
        "reference",
        "subject",
        "status",
        "priority",
        "inbox",
        "customer_email",
        "assignee",
        "tags",
        "created_at",
        "updated_at",
        *[f"cf.{field.key}" for field in fields],
    ]

    def lines():
        writer = csv.writer(_Echo())
        yield writer.writerow(header)
        for ticket in rows.iterator(chunk_size=500):
            values = ticket.custom_fields or {}
            yield writer.writerow(
                [
                    ticket.reference,
                    _spreadsheet_safe(ticket.subject),
                    ticket.status,
                    ticket.priority,
                    _spreadsheet_safe(ticket.inbox.name),
                    _spreadsheet_safe(ticket.customer.email),
                    _spreadsheet_safe(ticket.assignee.email if ticket.assignee else ""),
                    _spreadsheet_safe(sorted(tag.name for tag in ticket.tags.all())),
                    ticket.created_at.isoformat(),
                    ticket.updated_at.isoformat(),
                    *[_spreadsheet_safe(values.get(field.key)) for field in fields],
                ]
            )

    response = HttpResponse("".join(lines()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="helpdesk-tickets.csv"'
    return response


def _custom_field_filters(request, organization) -> list[dict]:
    """The organization's custom fields as queue filters (ranges for numbers and dates)."""
    rows = []
    for field in CustomField.objects.filter(organization=organization):
        ranged = field.type in {CustomField.Type.NUMBER, CustomField.Type.DECIMAL, CustomField.Type.DATE}
        names = [f"cf.{field.key}__gte", f"cf.{field.key}__lte"] if ranged else [f"cf.{field.key}"]
        rows.append(
            {
                "field": field,
                "ranged": ranged,
                "inputs": [(name, request.GET.get(name, "")) for name in names],
                "id": f"f-cf-{field.key}",
            }
        )
    return rows


def _live_queue(request) -> dict:
    """The polled queue, and the token for its next poll: the version is read before the
    rows, so a change committed meanwhile is shown at the next poll rather than missed."""
    version = live.organization_version(request.organization.pk)
    context = build_queue(request)
    context["live_token"] = queue_token(request, version)
    return context


@answers_unchanged(unchanged_queue)
@require_GET
@agent_required
def queue_rows(request):
    """The list and its counts, polled by the queue page so new and changed tickets appear.

    The saved views' counts ride along as an out-of-band swap. A poll with nothing new
    is a 204 from the cache (``UnchangedPollMiddleware``) and never reaches this view.
    """
    context = _live_queue(request)
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

        return lambda ticket: services.update_ticket(ticket=ticket, add_tags=[name], actor=actor)
    # assign
    value = post.get("assignee", "").strip()
    if not value:
        raise InvalidInput("assignee", "Choose an agent, or nobody.")
    assignee = (
        None if value == "none" else find_agent(organization_id=request.organization.pk, reference=value)
    )
    return lambda ticket: services.assign(ticket=ticket, assignee=assignee, actor=actor)
