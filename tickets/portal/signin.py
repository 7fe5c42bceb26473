"""The portal: a customer asks for a sign-in link by email and sees all their tickets.

No password and no account: the link (signed, one hour, used once) proves the customer
reads that mailbox. The request page answers the same whether or not the address is
known, so it cannot be used to learn who writes to an organization.
"""

import secrets

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import signin_guard
from accounts.models import Organization
from tickets import notifications
from tickets.models import Customer, Inbox, Ticket

from . import ratelimit, session
from .forms import SignInRequestForm
from .views import csrf_protect_private_form, private_page

TICKETS_PER_PAGE = 20


def _organization(slug: str) -> Organization:
    return get_object_or_404(Organization, slug=slug)


def _default_inbox(organization: Organization) -> Inbox | None:
    inboxes = Inbox.objects.filter(organization=organization)
    return inboxes.filter(is_default=True).first() or (inboxes.first() if inboxes.count() == 1 else None)


@csrf_protect_private_form
@require_http_methods(["GET", "POST"])
@private_page
def request_link(request, slug):
    organization = _organization(slug)
    if session.portal_customer_id(request, organization.pk) is not None and request.method == "GET":
        return redirect("portal:tickets", slug=organization.slug)
    form = SignInRequestForm(request.POST if request.method == "POST" else None)
    context = {"organization": organization, "form": form}
    if request.method == "GET" or not form.is_valid():
        return render(request, "portal/signin_request.html", context, status=200 if not form.errors else 400)

    email = form.cleaned_data["email"]
    # Each link asked for is a sign-in attempt for axes, per address asked for and per client.
    locked = signin_guard.count_email_request(request, signin_guard.portal_account(organization.pk, email))
    if locked is not None:
        return locked

    customer = Customer.objects.filter(organization=organization, email=email).first()
    link = ""
    if customer is not None:
        token = session.make_signin_token(customer, nonce=secrets.token_urlsafe(12))
        link = settings.SITE_URL + reverse("portal:signin", args=[organization.slug, token])
    # One task either way, run after the response: a known address must not answer
    # slower (or differently) than an unknown one.
    notifications.notify_portal_link.enqueue(customer.pk if customer is not None else None, link)
    return render(request, "portal/signin_sent.html", {"organization": organization, "email": email})


def _customer_from_token(organization: Organization, token: str) -> tuple[Customer | None, str]:
    payload = session.read_signin_token(token)
    if payload is None or payload["organization"] != organization.pk:
        return None, ""
    # An erased customer's links and sessions lead nowhere.
    customer = Customer.objects.filter(
        organization=organization, public_id=payload["customer"], erased_at__isnull=True
    ).first()
    return customer, payload["nonce"]


@csrf_protect_private_form
@require_http_methods(["GET", "POST"])
@private_page
def sign_in(request, slug, token):
    """The link from the email. GET asks to confirm, POST signs in.

    Mail scanners open links on their own; only a person's click on the button uses up the
    link and starts the session.
    """
    organization = _organization(slug)
    customer, nonce = _customer_from_token(organization, token)
    if customer is None:
        return render(request, "portal/signin_invalid.html", {"organization": organization}, status=400)
    if request.method == "GET":
        return render(
            request, "portal/signin_confirm.html", {"organization": organization, "customer": customer}
        )
    # One use per link: the first POST claims the nonce (a counted row, exact across workers)
    # for as long as the link could live.
    if ratelimit.SIGNIN_LINK_USES.hit(nonce) > ratelimit.SIGNIN_LINK_USES.limit:
        return render(request, "portal/signin_invalid.html", {"organization": organization}, status=400)
    session.sign_in(request, customer)
    return redirect("portal:tickets", slug=organization.slug)


@require_GET
@private_page
def tickets(request, slug):
    organization = _organization(slug)
    customer_id = session.portal_customer_id(request, organization.pk)
    customer = (
        Customer.objects.filter(pk=customer_id, organization=organization, erased_at__isnull=True).first()
        if customer_id
        else None
    )
    if customer is None:
        return redirect("portal:request_link", slug=organization.slug)
    status_filter = request.GET.get("status", "")
    customer_tickets = (
        Ticket.objects.filter(organization=organization, customer=customer)
        .select_related("inbox")
        .order_by("-updated_at", "-id")
    )
    if status_filter == "open":
        customer_tickets = customer_tickets.open()
    elif status_filter == "done":
        customer_tickets = customer_tickets.filter(status__in=[Ticket.Status.RESOLVED, Ticket.Status.CLOSED])
    else:
        status_filter = ""
    page = Paginator(customer_tickets, TICKETS_PER_PAGE).get_page(request.GET.get("page"))
    default_inbox = _default_inbox(organization)
    context = {
        "organization": organization,
        "customer": customer,
        "page": page,
        "status_filter": status_filter,
        "new_ticket_inbox": default_inbox,
    }
    return render(request, "portal/tickets.html", context)


@csrf_protect_private_form
@require_POST
def sign_out(request, slug):
    organization = _organization(slug)
    session.sign_out(request)
    return redirect("portal:request_link", slug=organization.slug)
