"""Settings → Data retention: how long closed tickets are kept, and what happens after."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import services as account_services
from accounts.models import Organization
from tickets import services
from tickets.actors import Actor
from tickets.exceptions import InvalidInput

from .settings_views import manager_required


class RetentionForm(forms.Form):
    retention_days = forms.IntegerField(
        label="Keep closed tickets for (days)",
        required=False,
        min_value=1,
        max_value=account_services.RETENTION_MAX_DAYS,
        help_text="Counted from when a ticket was closed. Leave empty to keep tickets forever.",
    )
    retention_action = forms.ChoiceField(
        label="Then", choices=Organization.RetentionAction.choices, widget=forms.RadioSelect
    )


@require_http_methods(["GET", "POST"])
@manager_required
def retention(request):
    organization = request.membership.organization
    form = RetentionForm(
        request.POST or None,
        initial={
            "retention_days": organization.retention_days,
            "retention_action": organization.retention_action,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            account_services.update_organization(
                organization=organization, actor=Actor.agent(request.user), **form.cleaned_data
            )
        except InvalidInput as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, "Retention rule saved. The worker applies it within the hour.")
            return redirect("dashboard:settings-retention")
    organization.refresh_from_db()
    context = {
        "settings_section": "retention",
        "form": form,
        "organization": organization,
        "due": services.tickets_due_for_retention(organization).count(),
    }
    return render(request, "dashboard/settings/retention.html", context, status=400 if form.errors else 200)
