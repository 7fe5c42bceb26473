"""What every dashboard view shares: who is working, in which organization, on what."""

from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from tickets.actors import Actor
from tickets.exceptions import HelpdeskError, InvalidInput
from tickets.models import Ticket


def agent_required(view):
    """Signed in and a member of an organization; otherwise the sign-in page or a 403 page.

    The view finds ``request.organization`` and ``request.actor`` set.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        is_htmx = request.headers.get("HX-Request") == "true"
        if not request.user.is_authenticated:
            if is_htmx:
                # A poll after the session ended: send the whole page to sign-in rather
                # than swapping the sign-in form into a table.
                return _htmx_sign_in(request)
            return login_required(view)(request, *args, **kwargs)
        membership = request.membership
        if not membership:
            if is_htmx:
                return HttpResponse(status=403)
            return render(request, "dashboard/no_organization.html", status=403)
        request.organization = membership.organization
        request.actor = Actor.agent(request.user)
        return view(request, *args, **kwargs)

    return wrapper


def _htmx_sign_in(request) -> HttpResponse:
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    next_path = current.path + (f"?{current.query}" if current.query else "") or reverse("dashboard:queue")
    response = HttpResponse(status=401)
    response["HX-Redirect"] = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_path})}"
    return response


def organization_tickets(request):
    """The tickets the current agent may see: those of the organization they work in."""
    return Ticket.objects.filter(organization=request.organization)


def get_ticket(request, public_id: str, queryset=None) -> Ticket:
    """The ticket by public id in the current organization; 404 for any other."""
    tickets = queryset if queryset is not None else organization_tickets(request)
    ticket = tickets.filter(organization=request.organization, public_id=public_id).first()
    if ticket is None:
        raise Http404("No such ticket.")
    return ticket


def describe_error(error: HelpdeskError) -> str:
    if isinstance(error, InvalidInput):
        return f"{error.field.replace('_', ' ').capitalize()}: {error.message}"
    return error.message


def report_error(request, error: HelpdeskError, prefix: str = "") -> None:
    messages.error(request, f"{prefix}{describe_error(error)}")


def safe_next(request, fallback: str) -> str:
    """Where to go back to after a POST: the given ``next`` when it is ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def ticket_url(public_id: str, queue_query: str = "") -> str:
    """A ticket's page; ``queue_query`` is the queue it was opened from (its "next" and "back")."""
    url = reverse("dashboard:ticket", args=[public_id])
    return f"{url}?{urlencode({'queue': queue_query})}" if queue_query else url


def back_to_ticket(request, ticket):
    """After a form on the ticket page: the page again, with the queue it came from."""
    return redirect(ticket_url(ticket.public_id, request.GET.get("queue", "")))
