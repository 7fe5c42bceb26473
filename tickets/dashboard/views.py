from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from tickets.models import Ticket


@login_required
def queue(request):
    membership = request.membership
    tickets = Ticket.objects.none()
    if membership:
        tickets = Ticket.objects.filter(organization=membership.organization).for_list()[:50]
    return render(request, "dashboard/queue.html", {"tickets": tickets})
