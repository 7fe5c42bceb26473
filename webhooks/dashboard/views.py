"""Settings → Webhooks, for owners and admins: endpoints, their secret, the delivery log.

Every object is looked up inside the signed-in member's current organization (another
organization's is a 404). Writes go through ``webhooks/services``; a refusal comes back
as a form error or a message. A secret is shown once, in the answer to the POST that
made it, never stored in the session or shown again.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from tickets.actors import Actor
from tickets.exceptions import HelpdeskError

from .. import services
from ..models import WebhookDelivery, WebhookEndpoint
from ..services.feed import retention_cutoff
from . import forms

DELIVERIES_SHOWN = 50


def manager_required(view):
    """Signed in, and an owner or admin of the current organization; else 403 (as every
    settings page)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        membership = request.membership
        if not membership or not membership.can_manage:
            raise PermissionDenied("Only owners and admins can change settings.")
        return view(request, *args, **kwargs)

    return wrapper


def _render(request, template: str, context: dict):
    return render(request, template, {"settings_section": "webhooks", **context})


def _add_error(form, error: HelpdeskError) -> None:
    field = getattr(error, "field", None)
    field = field.split("[", 1)[0] if field else None
    form.add_error(field if field in form.fields else None, error.message)


def _endpoint(request, public_id: str) -> WebhookEndpoint:
    return get_object_or_404(
        WebhookEndpoint.objects.select_related("organization"),
        organization=request.membership.organization,
        public_id=public_id,
    )


def _secret_page(request, endpoint: WebhookEndpoint, secret: str, *, rotated: bool):
    response = _render(
        request,
        "dashboard/settings/webhook_secret.html",
        {"endpoint": endpoint, "secret": secret, "rotated": rotated},
    )
    response["Cache-Control"] = "no-store"  # The page holds the secret.
    return response


@require_http_methods(["GET", "POST"])
@manager_required
def endpoint_list(request):
    organization = request.membership.organization
    form = forms.WebhookForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.create_endpoint(
                organization=organization, actor=Actor.agent(request.user), **form.cleaned_data
            )
        except HelpdeskError as error:
            _add_error(form, error)
        else:
            return _secret_page(request, endpoint, secret, rotated=False)
    endpoints = WebhookEndpoint.objects.filter(organization=organization)
    return _render(request, "dashboard/settings/webhooks.html", {"endpoints": endpoints, "form": form})


@require_http_methods(["GET", "POST"])
@manager_required
def endpoint_detail(request, public_id):
    endpoint = _endpoint(request, public_id)
    if request.method == "POST":
        form = forms.WebhookForm(request.POST)
        if form.is_valid():
            try:
                services.update_endpoint(
                    endpoint=endpoint, actor=Actor.agent(request.user), **form.cleaned_data
                )
            except HelpdeskError as error:
                _add_error(form, error)
            else:
                messages.success(request, "Webhook endpoint saved.")
                return redirect("webhooks-dashboard:detail", public_id=endpoint.public_id)
    else:
        form = forms.WebhookForm(
            initial={
                "url": endpoint.url,
                "events": endpoint.events,
                "description": endpoint.description,
                "include_internal_notes": endpoint.include_internal_notes,
                "active": endpoint.active,
            }
        )
    deliveries = (
        WebhookDelivery.objects.filter(endpoint=endpoint, created_at__gte=retention_cutoff())
        .select_related("event")
        .prefetch_related("attempt_log")[:DELIVERIES_SHOWN]
    )
    return _render(
        request,
        "dashboard/settings/webhook_detail.html",
        {
            "endpoint": endpoint,
            "form": form,
            "deliveries": deliveries,
            "confirm_form": forms.ConfirmForm(),
            "now": timezone.now(),
            "disable_after_days": settings.WEBHOOK_DISABLE_AFTER_DAYS,
        },
    )


@require_POST
@manager_required
def endpoint_rotate(request, public_id):
    endpoint = _endpoint(request, public_id)
    if not forms.ConfirmForm(request.POST).is_valid():
        messages.error(request, "Tick the confirmation box to rotate the secret.")
        return redirect("webhooks-dashboard:detail", public_id=endpoint.public_id)
    endpoint, secret = services.rotate_secret(endpoint=endpoint, actor=Actor.agent(request.user))
    return _secret_page(request, endpoint, secret, rotated=True)


@require_POST
@manager_required
def endpoint_test(request, public_id):
    endpoint = _endpoint(request, public_id)
    try:
        services.send_test(endpoint=endpoint, actor=Actor.agent(request.user))
    except HelpdeskError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "A ping event is on its way; its delivery is at the top of the log.")
    return redirect("webhooks-dashboard:detail", public_id=endpoint.public_id)


@require_POST
@manager_required
def endpoint_delete(request, public_id):
    endpoint = _endpoint(request, public_id)
    services.delete_endpoint(endpoint=endpoint, actor=Actor.agent(request.user))
    messages.success(request, f"Webhook endpoint {endpoint.url} deleted.")
    return redirect("webhooks-dashboard:list")


@require_POST
@manager_required
def delivery_redeliver(request, public_id, delivery_id):
    endpoint = _endpoint(request, public_id)
    delivery = get_object_or_404(WebhookDelivery, endpoint=endpoint, public_id=delivery_id)
    delivery.endpoint = endpoint
    try:
        services.redeliver(delivery=delivery, actor=Actor.agent(request.user))
    except HelpdeskError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The delivery will be sent again.")
    return redirect("webhooks-dashboard:detail", public_id=endpoint.public_id)
