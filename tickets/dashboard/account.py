"""The agent's own switches in the header: availability and the organization they work in."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import services as account_services
from accounts.middleware import SESSION_KEY

from .common import agent_required, safe_next


@require_POST
@agent_required
def availability(request):
    """Take auto-assigned tickets or not, in the current organization."""
    wanted = request.POST.get("is_available", "") in {"1", "true", "on"}
    membership = account_services.set_availability(membership=request.membership, is_available=wanted)
    if request.headers.get("HX-Request"):
        return render(request, "dashboard/includes/availability.html", {"current_membership": membership})
    messages.success(
        request,
        "You are available: auto-assignment may give you tickets."
        if membership.is_available
        else "You are away: auto-assignment will pass you by.",
    )
    return redirect(safe_next(request, reverse("dashboard:queue")))


@require_POST
@agent_required
def switch_organization(request):
    """Work in another of the agent's organizations; remembered in the session."""
    membership = (
        request.user.memberships.select_related("organization")
        .filter(organization__public_id=request.POST.get("organization", ""))
        .first()
    )
    if membership is None:
        raise Http404("Not a member of that organization.")
    request.session[SESSION_KEY] = membership.organization_id
    messages.success(request, f"You are working in {membership.organization.name}.")
    return redirect("dashboard:queue")
