"""Triggers and macros for staff, written through ``automation/services.py`` (the same
checks as the API's; a refusal is the field's error or a message, and saves nothing)."""

from django import forms
from django.contrib import admin

from helpdesk.admin_common import ServiceErrorsMixin
from helpdesk.forms import JSONField
from tickets.actors import Actor
from tickets.exceptions import InvalidInput

from . import rules, services
from .models import Macro, Trigger


class TriggerForm(forms.ModelForm):
    event = forms.ChoiceField(choices=list(rules.EVENTS.items()))
    conditions = JSONField(
        initial=dict, required=False, help_text='{"all": [...], "any": [...]}. ' + rules.FIELDS_HELP
    )
    actions = JSONField(initial=list, help_text="[{type, value}]. Types: " + ", ".join(rules.ACTION_TYPES))

    class Meta:
        model = Trigger
        fields = ("organization", "name", "active", "position", "event", "conditions", "actions")

    def clean(self):
        data = super().clean()
        organization = data.get("organization") or getattr(self.instance, "organization", None)
        if organization is not None and data.get("name"):
            try:
                services.check_trigger_name(organization, data["name"].strip(), trigger_pk=self.instance.pk)
            except InvalidInput as error:
                self.add_error("name", error.message)
        if organization is not None and not self.errors:
            try:
                data["event"], data["conditions"], data["actions"] = services.clean_trigger_body(
                    organization,
                    event=data.get("event"),
                    conditions=data.get("conditions"),
                    actions=data.get("actions"),
                )
            except InvalidInput as error:
                field = error.field.split(".")[0].split("[")[0]
                self.add_error(field if field in self.fields else None, f"{error.field}: {error.message}")
        return data


@admin.register(Trigger)
class TriggerAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    form = TriggerForm
    list_display = ("name", "organization", "event", "active", "position", "fired_count", "last_fired_at")
    list_filter = ("active", "event", "organization")
    list_select_related = ("organization",)
    search_fields = ("name", "organization__name")
    readonly_fields = ("fired_count", "last_fired_at", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "organization") if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        actor = Actor.agent(request.user)
        names = ("name", "active", "position", "event", "conditions", "actions")
        if change:
            services.update_trigger(trigger=obj, actor=actor, **{name: data[name] for name in names})
        else:
            obj.pk = services.create_trigger(
                organization=data["organization"], actor=actor, **{name: data[name] for name in names}
            ).pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.delete_trigger(trigger=obj, actor=Actor.agent(request.user))

    def delete_queryset(self, request, queryset):
        for trigger in queryset.select_related("organization"):
            services.delete_trigger(trigger=trigger, actor=Actor.agent(request.user))


class MacroForm(forms.ModelForm):
    actions = JSONField(initial=list, required=False, help_text=", ".join(rules.MACRO_ACTION_TYPES))

    class Meta:
        model = Macro
        fields = ("organization", "name", "reply", "actions", "shortcut")


@admin.register(Macro)
class MacroAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    """Shared macros are made here; a personal one is its owner's (shown, changed by them)."""

    form = MacroForm
    list_display = ("name", "organization", "owner", "usage_count", "shortcut")
    list_filter = ("organization",)
    list_select_related = ("organization", "owner")
    search_fields = ("name", "reply")
    readonly_fields = ("owner", "usage_count", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "organization") if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        actor = Actor.agent(request.user)
        values = {
            "name": data["name"],
            "reply": data.get("reply") or "",
            "actions": data.get("actions") or [],
            "shortcut": data.get("shortcut") or "",
        }
        if change:
            services.update_macro(macro=obj, actor=actor, **values)
        else:
            obj.pk = services.create_macro(organization=data["organization"], actor=actor, **values).pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.delete_macro(macro=obj, actor=Actor.agent(request.user))

    def delete_queryset(self, request, queryset):
        for macro in queryset.select_related("organization", "owner"):
            services.delete_macro(macro=macro, actor=Actor.agent(request.user))
