"""A customer's page: who they are and their tickets; for owners and admins, their data
rights — download everything about them (a zip), or erase it."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from tickets import services
from tickets.models import Customer, Ticket

from .common import agent_required

TICKETS_SHOWN = 50


def _customer(request, public_id: str) -> Customer:
    """The customer by public id in the current organization; 404 for any other."""
    customer = Customer.objects.filter(organization=request.organization, public_id=public_id).first()
    if customer is None:
        raise Http404("No such customer.")
    return customer


def _require_data_manager(request) -> None:
    if not services.may_manage_customer_data(request.actor, request.organization.pk):
        raise PermissionDenied("Only owners and admins export or erase a customer's data.")


@require_GET
@agent_required
def customer_page(request, public_id):
    customer = _customer(request, public_id)
    tickets = (
        Ticket.objects.filter(organization=request.organization, customer=customer)
        .select_related("inbox")
        .order_by("-created_at", "-id")
    )
    context = {
        "customer": customer,
        "tickets": tickets[:TICKETS_SHOWN],
        "ticket_total": tickets.count(),
        "metadata_items": sorted((customer.metadata or {}).items()),
        "may_manage_data": services.may_manage_customer_data(request.actor, request.organization.pk),
    }
    return render(request, "dashboard/customer.html", context)


@require_GET
@agent_required
def customer_export(request, public_id):
    customer = _customer(request, public_id)
    _require_data_manager(request)
    archive = services.export_customer(customer=customer, actor=request.actor)
    return FileResponse(
        archive,
        as_attachment=True,
        filename=services.export_filename(customer),
        content_type="application/zip",
    )


@require_http_methods(["GET", "POST"])
@agent_required
def customer_erase(request, public_id):
    """GET asks to confirm (it cannot be undone); POST erases."""
    customer = _customer(request, public_id)
    _require_data_manager(request)
    if request.method == "POST":
        services.erase_customer(customer=customer, actor=request.actor)
        messages.success(request, "The customer's personal data was erased. Their tickets remain, emptied.")
        return redirect("dashboard:customer", public_id=customer.public_id)
    ticket_total = Ticket.objects.filter(customer=customer).count()
    return render(
        request, "dashboard/customer_erase.html", {"customer": customer, "ticket_total": ticket_total}
    )
