"""Settings → Service levels, for owners and admins: business hours and SLA policies.

Every object is looked up inside the member's current organization (another's is a 404);
writes go through ``sla/services.py``, whose refusals come back as form errors.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from tickets import services as ticket_services
from tickets.actors import Actor
from tickets.exceptions import HelpdeskError
from tickets.models import Inbox

from .. import services
from ..models import BusinessHours, SlaPolicy
from . import forms


def manager_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        membership = request.membership
        if not membership or not membership.can_manage:
            raise PermissionDenied("Only owners and admins can change settings.")
        return view(request, *args, **kwargs)

    return wrapper


def _render(request, template: str, context: dict):
    return render(request, template, {"settings_section": "service_levels", **context})


def _add_error(form, error: HelpdeskError) -> None:
    field = getattr(error, "field", None) or ""
    name = field.split("[", 1)[0].split(".")[-1]
    aliases = {
        "inbox": "inboxes",
        "priority": "priorities",
        "channel": "channels",
        "tag": "tags",
        "targets": "first_reply_minutes",
    }
    name = aliases.get(name, name)
    form.add_error(name if name in form.fields else None, error.message)


def _save_hours(request, form, hours=None):
    actor = Actor.agent(request.user)
    data = form.cleaned_data
    fields = {name: data[name] for name in services.BUSINESS_HOURS_FIELDS}
    with transaction.atomic():
        if hours is None:
            hours = services.create_business_hours(
                organization=request.membership.organization, actor=actor, **fields
            )
        else:
            hours = services.update_business_hours(business_hours=hours, actor=actor, **fields)
        services.set_business_hours_inboxes(
            business_hours=hours, inbox_ids=[inbox.public_id for inbox in data["inboxes"]], actor=actor
        )
    return hours


@require_http_methods(["GET", "POST"])
@manager_required
def overview(request):
    organization = request.membership.organization
    posted = request.POST if request.method == "POST" else None
    kind = request.POST.get("kind") if posted else None
    hours_form = forms.BusinessHoursForm(
        posted if kind == "hours" else None, organization=organization, prefix="hours"
    )
    policy_form = forms.PolicyForm(
        posted if kind == "policy" else None,
        organization=organization,
        prefix="policy",
        initial={"time_basis": SlaPolicy.TimeBasis.BUSINESS, "is_active": True},
    )
    if kind == "hours" and hours_form.is_valid():
        try:
            _save_hours(request, hours_form)
        except HelpdeskError as error:
            _add_error(hours_form, error)
        else:
            messages.success(request, "Business hours added.")
            return redirect("sla-dashboard:overview")
    if kind == "survey":
        inbox = get_object_or_404(
            Inbox.objects.select_related("organization"),
            organization=organization,
            public_id=request.POST.get("inbox"),
        )
        survey_form = forms.SurveyForm(posted)
        if survey_form.is_valid():
            try:
                ticket_services.set_inbox_survey(
                    inbox=inbox,
                    ask=survey_form.cleaned_data["satisfaction_survey"],
                    delay_minutes=survey_form.cleaned_data["satisfaction_delay_minutes"],
                    actor=Actor.agent(request.user),
                )
            except HelpdeskError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"Satisfaction survey of {inbox.name} saved.")
        else:
            messages.error(request, "Give the delay in whole minutes (0 or more).")
        return redirect("sla-dashboard:overview")
    if kind == "policy" and policy_form.is_valid():
        try:
            services.create_policy(
                organization=organization, actor=Actor.agent(request.user), **policy_form.service_fields()
            )
        except HelpdeskError as error:
            _add_error(policy_form, error)
        else:
            messages.success(request, "SLA policy added.")
            return redirect("sla-dashboard:overview")
    return _render(
        request,
        "dashboard/settings/service_levels.html",
        {
            "calendars": BusinessHours.objects.filter(organization=organization).prefetch_related("inboxes"),
            "policies": SlaPolicy.objects.filter(organization=organization)
            .select_related("business_hours")
            .order_by("position", "id"),
            "hours_form": hours_form,
            "inboxes": Inbox.objects.filter(organization=organization).order_by("name"),
            "policy_form": policy_form,
        },
    )


@require_http_methods(["GET", "POST"])
@manager_required
def hours_detail(request, public_id):
    organization = request.membership.organization
    hours = get_object_or_404(
        BusinessHours.objects.select_related("organization"), organization=organization, public_id=public_id
    )
    if request.method == "POST":
        form = forms.BusinessHoursForm(request.POST, organization=organization)
        if form.is_valid():
            try:
                _save_hours(request, form, hours)
            except HelpdeskError as error:
                _add_error(form, error)
            else:
                messages.success(request, "Business hours saved.")
                return redirect("sla-dashboard:overview")
    else:
        form = forms.BusinessHoursForm(
            initial=forms.BusinessHoursForm.initial_for(hours), organization=organization
        )
    return _render(
        request,
        "dashboard/settings/service_level_form.html",
        {"form": form, "object": hours, "kind": "hours"},
    )


@require_http_methods(["GET", "POST"])
@manager_required
def policy_detail(request, public_id):
    organization = request.membership.organization
    policy = get_object_or_404(
        SlaPolicy.objects.select_related("organization"), organization=organization, public_id=public_id
    )
    if request.method == "POST":
        form = forms.PolicyForm(request.POST, organization=organization)
        if form.is_valid():
            try:
                services.update_policy(
                    policy=policy, actor=Actor.agent(request.user), **form.service_fields()
                )
            except HelpdeskError as error:
                _add_error(form, error)
            else:
                messages.success(request, "SLA policy saved.")
                return redirect("sla-dashboard:overview")
    else:
        form = forms.PolicyForm(initial=forms.PolicyForm.initial_for(policy), organization=organization)
    return _render(
        request,
        "dashboard/settings/service_level_form.html",
        {"form": form, "object": policy, "kind": "policy"},
    )


@require_POST
@manager_required
def hours_delete(request, public_id):
    hours = get_object_or_404(
        BusinessHours.objects.select_related("organization"),
        organization=request.membership.organization,
        public_id=public_id,
    )
    services.delete_business_hours(business_hours=hours, actor=Actor.agent(request.user))
    messages.success(request, f"Business hours “{hours.name}” deleted.")
    return redirect("sla-dashboard:overview")


@require_POST
@manager_required
def policy_delete(request, public_id):
    policy = get_object_or_404(
        SlaPolicy.objects.select_related("organization"),
        organization=request.membership.organization,
        public_id=public_id,
    )
    services.delete_policy(policy=policy, actor=Actor.agent(request.user))
    messages.success(request, f"SLA policy “{policy.name}” deleted.")
    return redirect("sla-dashboard:overview")
