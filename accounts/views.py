"""Sign-in, two-factor and password reset pages.

Guarded by django-axes (``accounts/signin_guard.py``): a wrong password is counted by axes
through ``authenticate``; a locked account or address gets the lockout page (429) without
its password being checked. A password reset request sends an email, so it is counted as an
attempt on the address asked for. The second step and its setup are django-otp's devices
(``accounts/two_factor.py``).
"""

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods

from . import services, signin_guard, two_factor
from .middleware import SESSION_KEY as ORGANIZATION_SESSION_KEY
from .models import Invitation


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        if two_factor.is_pending(self.request):
            next_page = urlencode({"next": self.get_success_url()})
            return redirect(f"{resolve_url('two_factor_verify')}?{next_page}")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):
        locked = signin_guard.count_email_request(self.request, form.cleaned_data["email"])
        if locked is not None:
            return locked
        return super().form_valid(form)


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url("dashboard:queue")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    """The second step: a code from the authenticator app, or a recovery code."""
    if two_factor.is_verified(request) or not two_factor.is_pending(request):
        return redirect(_next(request))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if two_factor.verify(request, form.cleaned_data["code"]):
            return redirect(_next(request))
        form.add_error("code", "That code is not right, or it was used already. Wait a moment and try again.")
    status = 400 if form.errors else 200
    return render(
        request, "registration/two_factor_verify.html", {"form": form, "next": _next(request)}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Set up an authenticator app: scan (or type) the key, confirm with one code, and get
    recovery codes, shown once. A person with a device must have verified this session."""
    if two_factor.is_pending(request) or (
        two_factor.user_has_device(request.user) and not two_factor.is_verified(request)
    ):
        # Replacing a device needs this session to have passed the current one.
        request.session[two_factor.STATE_KEY] = two_factor.PENDING
        return redirect(f"{resolve_url('two_factor_verify')}?{urlencode({'next': request.path})}")
    device = two_factor.pending_app_device(request.user)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.confirm_app_device(request, device, form.cleaned_data["code"])
        if codes is not None:
            response = render(
                request, "registration/two_factor_codes.html", {"codes": codes, "next": _next(request)}
            )
            return response
        form.add_error("code", "That code is not right. Check the app's clock and try the newest code.")
    context = {
        "form": form,
        "secret": two_factor.readable_secret(device),
        "config_url": device.config_url,
        "next": _next(request),
        "required": two_factor.required_by_an_organization(request),
    }
    return render(request, "registration/two_factor_setup.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def invitation(request, public_id):
    """An invitation to join an organization, accepted by its addressee, signed in."""
    invitation = get_object_or_404(Invitation.objects.select_related("organization"), public_id=public_id)
    for_someone_else = invitation.email.lower() != request.user.email.lower()
    if request.method == "POST" and not for_someone_else and invitation.accepted_at is None:
        membership = services.accept_invitation(invitation=invitation, user=request.user)
        # Work in the organization just joined.
        request.session[ORGANIZATION_SESSION_KEY] = membership.organization_id
        return redirect("dashboard:queue")
    context = {"invitation": invitation, "for_someone_else": for_someone_else}
    status = 403 if for_someone_else else 200
    return render(request, "registration/invitation.html", context, status=status)
