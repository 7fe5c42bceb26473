from django.http import Http404
from django.shortcuts import render
from django.utils.crypto import constant_time_compare

from tickets.models import Ticket
from tickets.selectors import ticket_with_thread


def ticket_page(request, public_id, access_key):
    ticket = (
        ticket_with_thread(Ticket.objects.select_related("inbox", "customer"), include_notes=False)
        .filter(public_id=public_id)
        .first()
    )
    if ticket is None or not constant_time_compare(ticket.access_key, access_key):
        raise Http404
    response = render(request, "portal/ticket.html", {"ticket": ticket})
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
