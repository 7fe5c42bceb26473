"""Business hours and SLA policies, for staff: every save and delete goes through
``sla/services.py`` (validated, audited, and the organization's cached policies
refreshed)."""

from django import forms
from django.contrib import admin

from helpdesk.admin_common import ReadOnlyAdmin, ServiceErrorsMixin, clean_with
from tickets.actors import Actor
from tickets.models import Inbox

from . import services
from .models import BusinessHours, Satisfaction, SlaPolicy


class BusinessHoursForm(forms.ModelForm):
    inboxes = forms.ModelMultipleChoiceField(
        queryset=Inbox.objects.select_related("organization"),
        required=False,
        help_text="The inboxes whose SLA targets count in these hours (others work 24/7 or use theirs).",
    )

    class Meta:
        model = BusinessHours
        fields = ("organization", "name", "time_zone", "weekly", "holidays")
        help_texts = {
            "weekly": 'e.g. [{"day": "mon", "start": "09:00", "end": "17:00"}, ...]',
            "holidays": 'e.g. ["2026-12-25", "2026-12-26"]',
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["inboxes"].initial = list(self.instance.inboxes.all())
            self.fields["inboxes"].queryset = Inbox.objects.filter(organization=self.instance.organization_id)

    def clean_time_zone(self):
        return clean_with(services.validate_time_zone, self.cleaned_data.get("time_zone"))

    def clean_weekly(self):
        return clean_with(services.validate_weekly, self.cleaned_data.get("weekly"))

    def clean_holidays(self):
        return clean_with(services.validate_holidays, self.cleaned_data.get("holidays"))

    def clean(self):
        cleaned = super().clean()
        organization = cleaned.get("organization") or getattr(self.instance, "organization", None)
        for inbox in cleaned.get("inboxes") or ():
            if organization is not None and inbox.organization_id != organization.pk:
                self.add_error("inboxes", f"{inbox.name} belongs to another organization.")
        return cleaned


@admin.register(BusinessHours)
class BusinessHoursAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    form = BusinessHoursForm
    list_display = ("name", "organization", "time_zone", "updated_at")
    list_filter = ("organization",)
    list_select_related = ("organization",)
    search_fields = ("name", "public_id", "organization__name")
    readonly_fields = ("public_id", "created_at", "updated_at")

    def get_fields(self, request, obj=None):
        fields = ["organization", "name", "time_zone", "weekly", "holidays", "inboxes"]
        return ["public_id", *fields, "created_at", "updated_at"] if obj else fields

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "organization") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        actor = Actor.agent(request.user)
        names = [name for name in services.BUSINESS_HOURS_FIELDS if not change or name in form.changed_data]
        fields = {name: data[name] for name in names}
        if change:
            hours = (
                services.update_business_hours(business_hours=obj, actor=actor, **fields) if fields else obj
            )
        else:
            hours = services.create_business_hours(organization=data["organization"], actor=actor, **fields)
        chosen = set(data.get("inboxes") or ())
        for inbox in Inbox.objects.filter(organization=hours.organization_id).select_related("organization"):
            uses = inbox.business_hours_id == hours.pk
            if (inbox in chosen) != uses:
                services.set_inbox_business_hours(
                    inbox=inbox, business_hours=hours if inbox in chosen else None, actor=actor
                )
        obj.pk = hours.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # The inboxes were set in save_model, through the service.
        pass

    def delete_model(self, request, obj):
        services.delete_business_hours(business_hours=obj, actor=Actor.agent(request.user))

    def delete_queryset(self, request, queryset):
        for hours in queryset.select_related("organization"):
            services.delete_business_hours(business_hours=hours, actor=Actor.agent(request.user))


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = (
            "organization",
            "name",
            "position",
            "is_active",
            "business_hours",
            "time_basis",
            "conditions",
            "first_reply_minutes",
            "next_reply_minutes",
            "resolution_minutes",
            "warning_percent",
            "warning_minutes_before",
            "raise_priority_to",
        )
        help_texts = {
            "conditions": 'e.g. {"priority": ["high", "urgent"], "inbox": ["<inbox id>"], '
            '"channel": ["email"], "tag": ["vip"], "customer_metadata": {"plan": "pro"}}',
        }

    def _organization(self):
        return self.cleaned_data.get("organization") or getattr(self.instance, "organization", None)

    def clean(self):
        cleaned = super().clean()
        organization = self._organization()
        if organization is None:
            return cleaned
        # The service's own rules, on the whole policy, each refusal on its field.
        try:
            services.clean_policy(organization, _policy_fields(cleaned))
        except services.InvalidInput as error:
            field = error.field.split(".")[-1].split("[")[0]
            target = field if field in self.fields else None
            if field in ("targets",):
                target = "first_reply_minutes"
            if field == "conditions" or error.field.startswith("conditions"):
                target = "conditions"
            self.add_error(target, error.message)
        return cleaned


def _policy_fields(data: dict) -> dict:
    fields = {
        "name": data.get("name"),
        "position": data.get("position"),
        "is_active": data.get("is_active"),
        "business_hours": data.get("business_hours"),
        "time_basis": data.get("time_basis"),
        "conditions": data.get("conditions") or {},
        "targets": {
            key: data.get(key) for key in ("first_reply_minutes", "next_reply_minutes", "resolution_minutes")
        },
        "escalation": {
            "warning_percent": data.get("warning_percent"),
            "warning_minutes_before": data.get("warning_minutes_before"),
            "raise_priority_to": data.get("raise_priority_to") or None,
        },
    }
    return {name: value for name, value in fields.items() if value is not None}


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    form = SlaPolicyForm
    list_display = (
        "name",
        "organization",
        "position",
        "is_active",
        "first_reply_minutes",
        "next_reply_minutes",
        "resolution_minutes",
        "time_basis",
    )
    list_filter = ("organization", "is_active", "time_basis")
    list_select_related = ("organization",)
    search_fields = ("name", "public_id", "organization__name")
    ordering = ("organization", "position", "id")
    readonly_fields = ("public_id", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "organization") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        actor = Actor.agent(request.user)
        fields = _policy_fields(form.cleaned_data)
        if change:
            services.update_policy(policy=obj, actor=actor, **fields)
        else:
            policy = services.create_policy(
                organization=form.cleaned_data["organization"], actor=actor, **fields
            )
            obj.pk = policy.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.delete_policy(policy=obj, actor=Actor.agent(request.user))

    def delete_queryset(self, request, queryset):
        for policy in queryset.select_related("organization"):
            services.delete_policy(policy=policy, actor=Actor.agent(request.user))


@admin.register(Satisfaction)
class SatisfactionAdmin(ReadOnlyAdmin):
    """Ratings are the customers' words: shown, never edited here."""

    list_display = ("ticket", "rating", "rated_at", "asked_at", "organization")
    list_filter = ("rating", "organization")
    list_select_related = ("ticket", "organization")
    search_fields = ("ticket__reference", "comment", "public_id")
    date_hierarchy = "rated_at"
