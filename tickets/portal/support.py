"""The built-in support form of an inbox (appbox's "built-in support form").

Anyone may write in, so: CSRF, a honeypot field, and rate limits per sender address and
per client address on top of the inbox's own per-customer daily limit (enforced by
``services.create_ticket``). The private link goes only to the address typed, by email
(``notifications.ticket_created``, after commit): the confirmation page shows the
reference, never the link, so typing someone else's address reveals nothing.
"""

from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from helpdesk.client_address import client_ip
from tickets import services
from tickets.actors import Actor
from tickets.exceptions import DailyLimitReached, InvalidInput, QuotaReached
from tickets.models import Inbox, Ticket

from . import ratelimit
from .forms import SupportForm, attachment_rules
from .views import private_page

SESSION_CREATED = "portal_created_ticket_id"


def _inbox(public_id: str) -> Inbox:
    return get_object_or_404(Inbox.objects.select_related("organization"), public_id=public_id)


def _render_form(request, inbox: Inbox, form: SupportForm, status: int = 200):
    context = {
        "inbox": inbox,
        "organization": inbox.organization,
        "form": form,
        "attachment_rules": attachment_rules(),
    }
    return render(request, "portal/support_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def support_form(request, inbox_id):
    inbox = _inbox(inbox_id)
    if request.method == "GET":
        return _render_form(request, inbox, SupportForm())

    form = SupportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_form(request, inbox, form, status=400)
    if form.is_spam:
        # Tell a bot nothing useful: it sees the same page a person sees, minus the link.
        request.session.pop(SESSION_CREATED, None)
        return redirect("portal:support_sent", inbox_id=inbox.public_id)

    data = form.cleaned_data
    address = client_ip(request)
    if ratelimit.SUPPORT_FORM_PER_EMAIL.exceeded(data["email"]) or ratelimit.SUPPORT_FORM_PER_IP.exceeded(
        address
    ):
        form.add_error(None, "You have sent several requests in a short time. Please try again in an hour.")
        return _render_form(request, inbox, form, status=429)
    ratelimit.SUPPORT_FORM_PER_EMAIL.hit(data["email"])
    ratelimit.SUPPORT_FORM_PER_IP.hit(address)

    try:
        with transaction.atomic():
            # Anyone can type any address: an existing customer's details are never
            # changed or shown from here, and the ticket joins their record only once
            # the address is proven (services.confirm_sender).
            customer = services.customer_for_unproven_sender(
                organization=inbox.organization,
                email=data["email"],
                name=data["name"],
                actor=Actor.system("Support form"),
            )
            ticket, _ = services.create_ticket(
                inbox=inbox,
                customer=customer,
                subject=data["subject"],
                message=data["message"],
                actor=Actor.for_customer(customer),
                channel=Ticket.Channel.WEB,
                attachments=data["attachments"],
                reply_address=data["email"],
                sender_unverified=True,
            )
    except DailyLimitReached:
        limit = inbox.daily_limit_per_customer
        form.add_error(
            None,
            f"You can open {limit} new request{'s' if limit != 1 else ''} a day here, and you have "
            "reached that today. Please reply to your earlier request (its link is in your "
            "email), or write again tomorrow.",
        )
        return _render_form(request, inbox, form, status=429)
    except QuotaReached:
        form.add_error(None, "This support inbox cannot take new requests right now. Please try again later.")
        return _render_form(request, inbox, form, status=429)
    except InvalidInput as error:
        field = {"customer.email": "email", "customer.name": "name", "body": "message"}.get(
            error.field, error.field
        )
        form.add_error(field if field in form.fields else None, error.message)
        return _render_form(request, inbox, form, status=400)

    request.session[SESSION_CREATED] = ticket.pk
    return redirect("portal:support_sent", inbox_id=inbox.public_id)


@require_GET
@private_page
def support_sent(request, inbox_id):
    inbox = _inbox(inbox_id)
    ticket = None
    ticket_id = request.session.get(SESSION_CREATED)
    if ticket_id is not None:
        ticket = Ticket.objects.filter(pk=ticket_id, inbox=inbox).select_related("customer").first()
    context = {"inbox": inbox, "organization": inbox.organization, "ticket": ticket}
    return render(request, "portal/support_sent.html", context)
