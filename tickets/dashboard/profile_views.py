"""The signed-in agent's own page: name, availability and personal API tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services as account_services
from accounts.models import AgentToken
from tickets import exceptions
from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.models import Notification

from . import settings_forms as forms
from .settings_views import pop_shown_once, remember_shown_once


def _page(request, *, profile_form=None, token_form=None, status=200):
    membership = request.membership or None
    return render(
        request,
        "dashboard/profile.html",
        {
            "profile_form": profile_form or forms.ProfileForm(initial={"name": request.user.name}),
            "token_form": token_form or forms.AgentTokenForm(),
            "membership": membership,
            "memberships": request.user.memberships.select_related("organization").order_by(
                "organization__name"
            ),
            "tokens": AgentToken.objects.filter(user=request.user).order_by("revoked_at", "-created_at"),
            "notification_kinds": [
                (kind, Notification.Kind(kind).label, in_app, email)
                for kind, (in_app, email) in ticket_services.notification_preferences(request.user).items()
            ],
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def profile(request):
    if request.method == "POST":
        form = forms.ProfileForm(request.POST)
        if form.is_valid():
            try:
                account_services.update_profile(user=request.user, name=form.cleaned_data["name"])
            except exceptions.InvalidInput as error:
                form.add_error("name", error.message)
            else:
                messages.success(request, "Profile saved.")
                return redirect("dashboard:profile")
        return _page(request, profile_form=form, status=400)
    return _page(request)


@require_POST
@login_required
def availability(request):
    membership = request.membership
    if not membership:
        messages.error(request, "You are not a member of any organization.")
        return redirect("dashboard:profile")
    form = forms.AvailabilityForm(request.POST)
    form.is_valid()
    is_available = form.cleaned_data.get("is_available", False)
    account_services.set_availability(membership=membership, is_available=is_available)
    if is_available:
        messages.success(request, f"You are available for new tickets in {membership.organization.name}.")
    else:
        messages.success(request, f"You are away: {membership.organization.name} assigns you no new tickets.")
    return redirect(request.POST.get("next") if _safe_next(request) else "dashboard:profile")


def _safe_next(request) -> bool:

    target = request.POST.get("next", "")
    return bool(target) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


@require_POST
@login_required
def token_create(request):
    form = forms.AgentTokenForm(request.POST)
    if form.is_valid():
        try:
            token, plaintext = account_services.create_agent_token(
                user=request.user, name=form.cleaned_data["name"]
            )
        except exceptions.InvalidInput as error:
            form.add_error("name", error.message)
        else:
            remember_shown_once(request, "agent_token", token.pk, plaintext)
            return redirect("dashboard:profile-token-created", pk=token.pk)
    return _page(request, token_form=form, status=400)


@require_GET
@login_required
def token_created(request, pk):
    token = get_object_or_404(AgentToken, user=request.user, pk=pk)
    plaintext = pop_shown_once(request, "agent_token", token.pk)
    if plaintext is None:
        messages.info(request, "A token is shown only once. Revoke it and create a new one if it was lost.")
        return redirect("dashboard:profile")
    response = render(
        request, "dashboard/profile_token_created.html", {"token": token, "plaintext": plaintext}
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def token_revoke(request, pk):
    token = get_object_or_404(AgentToken, user=request.user, pk=pk)
    account_services.revoke_agent_token(token=token, actor=Actor.agent(request.user))
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("dashboard:profile")


@require_POST
@login_required
def notification_preferences(request):
    """Per kind of notification: in the bell, by email, both or neither."""
    ticket_services.set_notification_preferences(
        user=request.user,
        preferences={
            kind: (f"{kind}-in_app" in request.POST, f"{kind}-email" in request.POST)
            for kind in Notification.Kind.values
        },
    )
    messages.success(request, "Notification preferences saved.")
    return redirect("dashboard:profile")
