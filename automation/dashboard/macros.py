"""Settings → Macros: every agent sees the organization's shared macros and their own, with
how often each was used; they make and change their own, owners and admins the shared
ones (``automation.services`` decides, and a refusal is a 403). Macros replaced saved
replies: the ticket page inserts a macro's reply into the composer, or applies it whole.
"""

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.forms import BoundedJSONDecoder
from tickets.actors import Actor
from tickets.exceptions import HelpdeskError
from tickets.exceptions import PermissionDenied as NotAllowed

from .. import rules, services
from ..models import Macro
from .views import _add_error, member_required


class MacroForm(forms.Form):
    name = forms.CharField(max_length=100)
    reply = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown, posted as your reply. {{ customer_name }}, {{ ticket_reference }} and the "
        "other variables below are filled in for the ticket.",
    )
    actions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text='A list of {"type", "value"}, e.g. [{"type": "set_status", "value": "pending"}]; '
        "empty for a reply only.",
    )
    shortcut = forms.CharField(
        max_length=1,
        required=False,
        help_text="A letter or digit: Alt+Shift+key applies it on the ticket page.",
    )
    personal = forms.BooleanField(required=False, label="Only for me (personal)")

    def clean_actions(self):
        text = self.cleaned_data["actions"].strip()
        if not text:
            return []
        try:
            value = json.loads(text, cls=BoundedJSONDecoder)
        except ValueError:
            raise forms.ValidationError("Not valid JSON.") from None
        if not isinstance(value, list):
            raise forms.ValidationError("A list.")
        return value


def _may_edit(request, macro: Macro) -> bool:
    if macro.owner_id is not None:
        return macro.owner_id == request.user.pk
    return request.membership.can_manage


def _visible(request):
    return services.macros_for(request.user, [request.membership.organization_id]).select_related(
        "organization", "owner"
    )


def _render(request, template, context, *, status=200):
    return render(
        request,
        template,
        {
            "settings_section": "macros",
            "macro_action_types": {kind: rules.ACTION_TYPES[kind] for kind in rules.MACRO_ACTION_TYPES},
            "template_variables": rules.TEMPLATE_VARIABLES,
            **context,
        },
        status=status,
    )


@require_GET
@member_required
def macro_list(request):
    macros = list(_visible(request).order_by(F("owner_id").asc(nulls_first=True), "name", "id"))
    for macro in macros:
        macro.editable = _may_edit(request, macro)
    return _render(
        request,
        "automation/macros.html",
        {"macros": macros, "can_share": request.membership.can_manage},
    )


def _save(request, form, macro: Macro | None):
    data = form.cleaned_data
    actor = Actor.agent(request.user)
    fields = {
        "name": data["name"],
        "reply": data["reply"],
        "actions": data["actions"],
        "shortcut": data["shortcut"],
    }
    if macro is None:
        # Only owners and admins share: anyone else's new macro is theirs.
        personal = data["personal"] or not request.membership.can_manage
        return services.create_macro(
            organization=request.membership.organization, actor=actor, personal=personal, **fields
        )
    return services.update_macro(macro=macro, actor=actor, **fields)


def _form_page(request, macro: Macro | None):
    if request.method == "POST":
        form = MacroForm(request.POST)
        if form.is_valid():
            try:
                saved = _save(request, form, macro)
            except NotAllowed as error:
                raise PermissionDenied(error.message) from error
            except HelpdeskError as error:
                _add_error(form, error)
            else:
                messages.success(request, f"Macro “{saved.name}” {'saved' if macro else 'created'}.")
                return redirect("automation-dashboard:macros")
    elif macro is not None:
        form = MacroForm(
            initial={
                "name": macro.name,
                "reply": macro.reply,
                "actions": json.dumps(macro.actions, indent=2) if macro.actions else "",
                "shortcut": macro.shortcut,
                "personal": macro.is_personal,
            }
        )
    else:
        form = MacroForm(initial={"personal": not request.membership.can_manage})
    return _render(
        request,
        "automation/macro_form.html",
        {"form": form, "macro": macro, "can_share": request.membership.can_manage},
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@member_required
def macro_create(request):
    return _form_page(request, None)


@require_http_methods(["GET", "POST"])
@member_required
def macro_edit(request, macro_id):
    macro = get_object_or_404(_visible(request), pk=macro_id)
    if not _may_edit(request, macro):
        raise PermissionDenied("Shared macros are changed by owners and admins.")
    return _form_page(request, macro)


@require_POST
@member_required
def macro_delete(request, macro_id):
    macro = get_object_or_404(_visible(request), pk=macro_id)
    try:
        services.delete_macro(macro=macro, actor=Actor.agent(request.user))
    except NotAllowed as error:
        raise PermissionDenied(error.message) from error
    messages.success(request, f"Macro “{macro.name}” deleted.")
    return redirect("automation-dashboard:macros")
