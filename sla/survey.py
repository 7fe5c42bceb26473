"""The customer's rating page: ``/satisfaction/<ticket id>/<private link key>/``.

Built on the private page's own checks (``tickets.portal``: the link key compared in
constant time and throttled per address, private headers, CSRF for forms on a
no-referrer page). A GET only shows the page — the rating from the email's link is
preselected — so a mail scanner that follows every link records nothing; the POST of the
form records the rating through ``sla.satisfaction.rate``.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tickets.actors import Actor
from tickets.exceptions import HelpdeskError
from tickets.models import Ticket
from tickets.portal.views import csrf_protect_private_form, private_page, ticket_from_link

from . import satisfaction
from .models import Satisfaction


@csrf_protect_private_form
@require_http_methods(["GET", "POST"])
@private_page
def rate(request, public_id, access_key):
    ticket = ticket_from_link(
        request,
        public_id,
        access_key,
        queryset=Ticket.objects.select_related("inbox", "organization", "customer"),
    )
    survey = Satisfaction.objects.filter(ticket=ticket).first()
    error = None
    chosen = request.POST.get("rating") if request.method == "POST" else request.GET.get("rating")
    comment = request.POST.get("comment", survey.comment if survey else "")
    if request.method == "POST":
        try:
            satisfaction.rate(
                ticket=ticket,
                rating=chosen or "",
                comment=comment,
                actor=Actor.for_customer(ticket.customer, credential=f"link:{ticket.public_id}"),
            )
        except HelpdeskError as refusal:
            error = refusal.message
        else:
            messages.success(request, "Thank you for your rating!")
            return redirect(request.path)
    if chosen not in Satisfaction.Rating.values:
        chosen = survey.rating if survey else ""
    return render(
        request,
        "sla/rate.html",
        {
            "ticket": ticket,
            "survey": survey,
            "chosen": chosen,
            "comment": comment,
            "error": error,
            "can_change": satisfaction.can_change(survey),
            "rateable": ticket.status in satisfaction.RATEABLE_STATUSES,
        },
        status=400 if error else 200,
    )
