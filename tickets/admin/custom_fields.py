"""Custom fields for staff: created, changed and deleted through the services."""

from django import forms
from django.contrib import admin

from helpdesk.admin_common import ServiceErrorsMixin, clean_with
from helpdesk.forms import JSONField
from tickets import services
from tickets.actors import Actor

from ..models import CustomField
from ..services.custom_fields import clean_definition


class CustomFieldForm(forms.ModelForm):
    options = JSONField(initial=list, required=False, help_text='A dropdown\'s choices: ["free", "pro"].')

    class Meta:
        model = CustomField
        fields = (
            "organization",
            "key",
            "label",
            "type",
            "options",
            "required_to_resolve",
            "inboxes",
            "position",
        )

    def clean(self):
        data = super().clean()
        organization = data.get("organization") or getattr(self.instance, "organization", None)
        if organization is not None and not self.errors:
            data["label"], data["options"], _ = clean_with(
                clean_definition,
                organization,
                label=data.get("label"),
                type=data.get("type") or self.instance.type,
                options=data.get("options") or [],
                inboxes=list(data.get("inboxes") or []),
                position=data.get("position") or 0,
            )
        return data


@admin.register(CustomField)
class CustomFieldAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    form = CustomFieldForm
    list_display = ("label", "key", "type", "organization", "required_to_resolve", "position")
    list_filter = ("type", "organization")
    list_select_related = ("organization",)
    search_fields = ("key", "label", "organization__name")
    filter_horizontal = ("inboxes",)

    def get_readonly_fields(self, request, obj=None):
        # Values on tickets keep their meaning: the key and the type never change.
        return ("organization", "key", "type") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        actor = Actor.agent(request.user)
        values = {
            "label": data["label"],
            "options": data.get("options") or [],
            "required_to_resolve": data.get("required_to_resolve", False),
            "inboxes": list(data.get("inboxes") or []),
            "position": data.get("position") or 0,
        }
        if change:
            services.update_custom_field(field=obj, actor=actor, **values)
        else:
            obj.pk = services.create_custom_field(
                organization=data["organization"], actor=actor, key=data["key"], type=data["type"], **values
            ).pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # The service has set the inboxes; the form must not set them again.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        services.delete_custom_field(field=obj, actor=Actor.agent(request.user))

    def delete_queryset(self, request, queryset):
        for field in queryset.select_related("organization"):
            services.delete_custom_field(field=field, actor=Actor.agent(request.user))
