"""Settings → Triggers (owners and admins: the editor, with a preview of which of the last
100 tickets would match), and macros applied from the ticket page and the bulk bar.

Objects are looked up in the signed-in member's current organization (another's is a
404). Writes go through ``automation/services.py``; a refusal is a form error or a message.
"""

import json
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk.forms import BoundedJSONDecoder
from tickets.actors import Actor
from tickets.exceptions import HelpdeskError, InvalidInput
from tickets.models import Ticket

from .. import rules, services
from ..models import Trigger


def manager_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        membership = request.membership
        if not membership or not membership.can_manage:
            raise PermissionDenied("Only owners and admins can change settings.")
        return view(request, *args, **kwargs)

    return wrapper


def member_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.membership:
            raise PermissionDenied("Not a member of an organization.")
        return view(request, *args, **kwargs)

    return wrapper


class TriggerForm(forms.Form):
    name = forms.CharField(max_length=100)
    event = forms.ChoiceField(choices=list(rules.EVENTS.items()))
    active = forms.BooleanField(required=False, initial=True)
    position = forms.IntegerField(min_value=0, max_value=100_000, initial=0)
    conditions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        initial=json.dumps(
            {"all": [{"field": "subject", "op": "contains", "value": "refund"}], "any": []}, indent=2
        ),
        help_text='{"all": [...], "any": [...]}, each {"field", "op", "value"}.',
    )
    actions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        initial=json.dumps([{"type": "set_priority", "value": "urgent"}], indent=2),
        help_text='A list of {"type", "value"}.',
    )

    def _json(self, name, kind):
        try:
            value = json.loads(self.cleaned_data[name], cls=BoundedJSONDecoder)
        except ValueError:
            raise forms.ValidationError("Not valid JSON.") from None
        if not isinstance(value, kind):
            raise forms.ValidationError("An object." if kind is dict else "A list.")
        return value

    def clean_conditions(self):
        return self._json("conditions", dict)

    def clean_actions(self):
        return self._json("actions", list)


def _add_error(form, error: HelpdeskError) -> None:
    field = getattr(error, "field", "") or ""
    name = field.split(".", 1)[0].split("[", 1)[0]
    message = f"{field}: {error.message}" if isinstance(error, InvalidInput) and field else error.message
    form.add_error(name if name in form.fields else None, message)


def _render(request, template, context):
    return render(
        request,
        template,
        {
            "settings_section": "triggers",
            "fields_help": rules.FIELDS_HELP,
            "action_types": rules.ACTION_TYPES,
            "template_variables": rules.TEMPLATE_VARIABLES,
            **context,
        },
    )


def _preview(request, form, organization):
    try:
        return services.preview(organization=organization, conditions=form.cleaned_data["conditions"])
    except HelpdeskError as error:
        _add_error(form, error)
        return None


@require_http_methods(["GET", "POST"])
@manager_required
def trigger_list(request):
    organization = request.membership.organization
    form = TriggerForm(request.POST if request.method == "POST" else None)
    matches = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            matches = _preview(request, form, organization)
        else:
            try:
                services.create_trigger(
                    organization=organization, actor=Actor.agent(request.user), **form.cleaned_data
                )
            except HelpdeskError as error:
                _add_error(form, error)
            else:
                messages.success(request, "Trigger created.")
                return redirect("automation-dashboard:triggers")
    triggers = Trigger.objects.filter(organization=organization)
    status = 400 if request.method == "POST" and form.errors else 200
    response = _render(
        request, "automation/triggers.html", {"triggers": triggers, "form": form, "matches": matches}
    )
    response.status_code = status
    return response


@require_http_methods(["GET", "POST"])
@manager_required
def trigger_detail(request, trigger_id):
    organization = request.membership.organization
    trigger = get_object_or_404(
        Trigger.objects.select_related("organization"), organization=organization, pk=trigger_id
    )
    matches = None
    if request.method == "POST":
        form = TriggerForm(request.POST)
        if form.is_valid():
            if "preview" in request.POST:
                matches = _preview(request, form, organization)
            else:
                try:
                    services.update_trigger(
                        trigger=trigger, actor=Actor.agent(request.user), **form.cleaned_data
                    )
                except HelpdeskError as error:
                    _add_error(form, error)
                else:
                    messages.success(request, "Trigger saved.")
                    return redirect("automation-dashboard:trigger", trigger_id=trigger.pk)
    else:
        form = TriggerForm(
            initial={
                "name": trigger.name,
                "event": trigger.event,
                "active": trigger.active,
                "position": trigger.position,
                "conditions": json.dumps(trigger.conditions, indent=2),
                "actions": json.dumps(trigger.actions, indent=2),
            }
        )
    response = _render(
        request, "automation/trigger_detail.html", {"trigger": trigger, "form": form, "matches": matches}
    )
    if request.method == "POST" and form.errors:
        response.status_code = 400
    return response


@require_POST
@manager_required
def trigger_delete(request, trigger_id):
    trigger = get_object_or_404(
        Trigger.objects.select_related("organization"),
        organization=request.membership.organization,
        pk=trigger_id,
    )
    services.delete_trigger(trigger=trigger, actor=Actor.agent(request.user))
    messages.success(request, f"Trigger {trigger.name} deleted.")
    return redirect("automation-dashboard:triggers")


# Macros ---------------------------------------------------------------------------------------


def _back(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _macro(request, organization):
    macro_id = request.POST.get("macro", "")
    macros = services.macros_for(request.user, [organization.pk])
    return macros.filter(pk=int(macro_id)).first() if macro_id.isdigit() and len(macro_id) < 19 else None


@require_POST
@member_required
def apply_macro(request, public_id):
    organization = request.membership.organization
    ticket = get_object_or_404(Ticket, organization=organization, public_id=public_id)
    back = _back(request, reverse("dashboard:ticket", args=[ticket.public_id]))
    macro = _macro(request, organization)
    if macro is None:
        messages.error(request, "Choose a macro.")
        return redirect(back)
    try:
        services.apply_macro(macro=macro, ticket=ticket, actor=Actor.agent(request.user))
    except HelpdeskError as error:
        messages.error(request, f"{macro.name}: {error.message}")
    else:
        messages.success(request, f"Applied {macro.name}.")
    return redirect(back)


@require_POST
@member_required
def apply_macro_to_many(request):
    """The bulk bar: one macro on each selected ticket; refusals are reported per ticket."""
    organization = request.membership.organization
    back = _back(request, reverse("dashboard:queue"))
    macro = _macro(request, organization)
    public_ids = [value for value in request.POST.getlist("ticket") if len(value) <= 26 and value.isalnum()]
    if macro is None or not public_ids:
        messages.error(request, "Choose a macro and at least one ticket.")
        return redirect(back)
    done, failures = 0, []
    for ticket in Ticket.objects.filter(organization=organization, public_id__in=public_ids[:200]).order_by(
        "id"
    ):
        try:
            services.apply_macro(macro=macro, ticket=ticket, actor=Actor.agent(request.user))
        except HelpdeskError as error:
            failures.append(f"{ticket.reference}: {error.message}")
        else:
            done += 1
    if done:
        messages.success(request, f"Applied {macro.name} to {done} ticket{'s' if done != 1 else ''}.")
    for failure in failures:
        messages.error(request, failure)
    return redirect(back)
