"""The private ticket page: whoever holds the link is the ticket's customer.

The link carries the ticket's public id and its secret ``access_key``. A wrong key is
the same plain 404 as an unknown ticket, and misses are counted per client address
(``ratelimit.KEY_GUESSES``) so guessing ends in 429s. Every change goes through
``tickets.services`` as ``Actor.for_customer(ticket.customer)``.
"""

from dataclasses import dataclass
from functools import partial, wraps

from django.contrib import messages
from django.http import Http404
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.crypto import constant_time_compare
from django.utils.decorators import decorator_from_middleware
from django.utils.safestring import SafeString
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from helpdesk.client_address import client_ip
from tickets import services
from tickets.actors import Actor
from tickets.downloads import attachment_download
from tickets.exceptions import HelpdeskError, InvalidInput
from tickets.models import Attachment, Message, Ticket
from tickets.selectors import merge_destination

from . import ratelimit
from .forms import ReplyForm, attachment_rules
from .session import portal_customer_id


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int):
        super().__init__("Too many attempts.")
        self.retry_after = retry_after


def private_page(view):
    """Headers for pages whose URL is a secret: never sent on, indexed, or cached."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except TooManyAttempts as error:
            response = render(request, "portal/throttled.html", status=429)
            response["Retry-After"] = str(error.retry_after)
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        patch_cache_control(response, private=True, no_store=True)
        return response

    return wrapper


class _NoReferrerPageCsrf(CsrfViewMiddleware):
    """CSRF protection for forms on pages sent with ``Referrer-Policy: no-referrer``.

    Under that policy browsers send ``Origin: null`` with the page's own form posts, which
    Django's check refuses. Here a null origin passes the origin step, and the CSRF token
    (cookie and form field) must still match. Every other origin is checked as usual.
    """

    def _origin_verified(self, request):
        if request.META.get("HTTP_ORIGIN") == "null":
            return True
        return super()._origin_verified(request)


def csrf_protect_private_form(view):
    """Use on the POST views whose form sits on a ``private_page``."""
    return csrf_exempt(decorator_from_middleware(_NoReferrerPageCsrf)(view))


def ticket_from_link(request, public_id: str, access_key: str, queryset=None) -> Ticket:
    """The ticket this link opens, or a 404; throttled per client address."""
    address = client_ip(request)
    if ratelimit.KEY_GUESSES.exceeded(address):
        raise TooManyAttempts(ratelimit.KEY_GUESSES.window_seconds)
    queryset = queryset if queryset is not None else Ticket.objects.all()
    ticket = queryset.filter(public_id=public_id).first() if len(public_id) <= 26 else None
    # Compare even when the ticket is unknown so both misses take the same time.
    expected = ticket.access_key if ticket is not None else "tk_" + "x" * 32
    if not constant_time_compare(expected, access_key) or ticket is None:
        ratelimit.KEY_GUESSES.hit(address)
        raise Http404
    return ticket


@dataclass(frozen=True)
class ThreadEntry:
    message: Message
    html: SafeString


def _thread(ticket: Ticket) -> list[ThreadEntry]:
    public_messages = (
        ticket.messages.filter(kind=Message.Kind.REPLY)
        .select_related("author_user", "author_customer")
        .prefetch_related("attachments")
    )
    return [ThreadEntry(message=message, html=message.html) for message in public_messages]


def _page_queryset():
    return Ticket.objects.select_related("inbox", "organization", "customer")


def _render_ticket(request, ticket: Ticket, form: ReplyForm | None = None, status: int = 200):
    signed_in_customer = portal_customer_id(request, ticket.organization_id)
    context = {
        "ticket": ticket,
        # Called by the template only when its cached copy of the thread is stale.
        "thread": partial(_thread, ticket),
        "form": form or ReplyForm(),
        "can_reply": ticket.status != Ticket.Status.CLOSED,
        "can_close": ticket.status != Ticket.Status.CLOSED,
        "can_reopen": ticket.status == Ticket.Status.RESOLVED,
        "attachment_rules": attachment_rules(),
        "signed_in": signed_in_customer == ticket.customer_id,
    }
    return render(request, "portal/ticket.html", context, status=status)


def _to_merge_destination(request, ticket: Ticket):
    """A merged duplicate's link opens the ticket the conversation continues on: its
    customer was copied there, and the agents answer there."""
    destination = merge_destination(ticket)
    messages.info(request, f"Your request {ticket.reference} continues here, as {destination.reference}.")
    return redirect(destination.private_path)


@require_GET
@private_page
def ticket_page(request, public_id, access_key):
    ticket = ticket_from_link(request, public_id, access_key, _page_queryset())
    if ticket.merged_into_id is not None:
        return _to_merge_destination(request, ticket)
    if ticket.sender_unverified and not request.user.is_authenticated:
        # The link went only to the address typed: whoever opens it reads that mailbox.
        # (An agent opening it from the dashboard, signed in, proves nothing.)
        services.confirm_sender(ticket=ticket, how="followed the emailed link")
        ticket = _page_queryset().get(pk=ticket.pk)
    return _render_ticket(request, ticket)


@csrf_protect_private_form
@require_POST
@private_page
def reply(request, public_id, access_key):
    ticket = ticket_from_link(request, public_id, access_key, _page_queryset())
    if ticket.merged_into_id is not None:
        return _to_merge_destination(request, ticket)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_ticket(request, ticket, form, status=400)
    try:
        services.add_message(
            ticket=ticket,
            body=form.cleaned_data["body"],
            actor=Actor.for_customer(ticket.customer),
            channel=Ticket.Channel.WEB,
            attachments=form.cleaned_data["attachments"],
        )
    except InvalidInput as error:
        form.add_error("body" if error.field in {"body", "message"} else None, error.message)
        return _render_ticket(request, ticket, form, status=400)
    except HelpdeskError as error:
        messages.error(request, error.message)
        return redirect(ticket.private_path)
    messages.success(request, "Your reply was sent.")
    return redirect(f"{ticket.private_path}#latest")


def _change_status(request, ticket: Ticket, status: str, done: str):
    try:
        services.change_status(ticket=ticket, status=status, actor=Actor.for_customer(ticket.customer))
    except HelpdeskError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect(ticket.private_path)


@csrf_protect_private_form
@require_POST
@private_page
def close(request, public_id, access_key):
    ticket = ticket_from_link(request, public_id, access_key)
    if ticket.status == Ticket.Status.CLOSED:
        return redirect(ticket.private_path)
    return _change_status(request, ticket, Ticket.Status.CLOSED, "The ticket is closed. Thank you!")


@csrf_protect_private_form
@require_POST
@private_page
def reopen(request, public_id, access_key):
    ticket = ticket_from_link(request, public_id, access_key)
    if ticket.status != Ticket.Status.RESOLVED:
        messages.error(request, "Only a resolved ticket can be reopened.")
        return redirect(ticket.private_path)
    return _change_status(request, ticket, Ticket.Status.OPEN, "The ticket is open again.")


@require_GET
@private_page
def attachment(request, public_id, access_key, attachment_id):
    ticket = merge_destination(ticket_from_link(request, public_id, access_key))
    # Files on internal notes are the team's: never served through the customer's link.
    found = (
        Attachment.objects.filter(
            public_id=attachment_id, message__ticket=ticket, message__kind=Message.Kind.REPLY
        )
        .only("file", "filename", "content_type")
        .first()
    )
    if found is None:
        raise Http404
    return attachment_download(found)
