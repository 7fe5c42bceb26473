"""Webhook endpoints, their deliveries (with every attempt) and the event feed, for staff.

Endpoints are created, changed, rotated and deleted through ``webhooks/services``; a new
or rotated secret is shown once, in the message after the save. Deliveries and events
are records: read-only, with redelivery as an action.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from helpdesk.admin_common import BOTH_LOCATIONS, ReadOnlyAdmin, ServiceErrorsMixin, clean_with
from tickets.actors import Actor

from . import services
from .models import EVERY_EVENT, Event, EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .services.transport import check_url

EVENT_CHOICES = [(EVERY_EVENT, "Every event type"), *EventType.choices]


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ("organization", "url", "description", "events", "include_internal_notes", "active")

    def clean_url(self):
        return clean_with(check_url, self.cleaned_data.get("url", ""))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceErrorsMixin, admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "organization", "active", "disabled_reason", "failing_since", "created_at")
    list_filter = ("active", "disabled_reason", "organization")
    list_select_related = ("organization",)
    search_fields = ("url", "description", "public_id", "organization__name")
    readonly_fields = ("public_id", "previous_secret_expires_at", "disabled_at", "created_at", "updated_at")
    actions = ["rotate_secrets", "send_test_pings"]

    def get_fields(self, request, obj=None):
        fields = ["organization", "url", "description", "events", "include_internal_notes", "active"]
        if obj is not None:
            fields = ["public_id", *fields, "failing_since", "disabled_reason", *self.readonly_fields[1:]]
        return fields

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return (*self.readonly_fields, "organization", "failing_since", "disabled_reason")
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        actor = Actor.agent(request.user)
        if not change:
            endpoint, secret = services.create_endpoint(
                organization=data["organization"],
                actor=actor,
                **{name: data[name] for name in services.EDITABLE_FIELDS},
            )
            obj.pk = endpoint.pk
            self.message_user(request, f"Signing secret (shown only now): {secret}", messages.WARNING)
        else:
            changed = {name: data[name] for name in services.EDITABLE_FIELDS if name in form.changed_data}
            if changed:
                services.update_endpoint(endpoint=obj, actor=actor, **changed)
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.delete_endpoint(endpoint=obj, actor=Actor.agent(request.user))

    def delete_queryset(self, request, queryset):
        for endpoint in queryset.select_related("organization"):
            services.delete_endpoint(endpoint=endpoint, actor=Actor.agent(request.user))

    @admin.action(
        description="Rotate the signing secret (the old one signs 24 h more)", location=BOTH_LOCATIONS
    )
    def rotate_secrets(self, request, queryset):
        for endpoint in queryset.select_related("organization"):
            endpoint, secret = services.rotate_secret(endpoint=endpoint, actor=Actor.agent(request.user))
            self.message_user(
                request, f"New signing secret of {endpoint.url} (shown only now): {secret}", messages.WARNING
            )

    @admin.action(description="Send a test ping", location=BOTH_LOCATIONS)
    def send_test_pings(self, request, queryset):
        sent = 0
        for endpoint in queryset.select_related("organization"):
            services.send_test(endpoint=endpoint, actor=Actor.agent(request.user))
            sent += 1
        self.message_user(request, f"{sent} ping(s) queued; see the deliveries.")


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("number", "started_at", "duration_ms", "status_code", "error", "response_body")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ServiceErrorsMixin, ReadOnlyAdmin):
    list_display = (
        "public_id",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "created_at")
    list_select_related = ("event", "endpoint")
    search_fields = ("public_id", "event__public_id", "endpoint__url")
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]
    fields = (
        "public_id",
        "endpoint",
        "event",
        "status",
        "attempts",
        "first_attempt_at",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    )
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    @admin.display(description="Event", ordering="event__type")
    def event_type(self, delivery):
        return delivery.event.type

    @admin.action(description="Deliver again", location=BOTH_LOCATIONS)
    def redeliver(self, request, queryset):
        count = 0
        for delivery in queryset.select_related("endpoint__organization"):
            services.redeliver(delivery=delivery, actor=Actor.agent(request.user))
            count += 1
        self.message_user(request, f"{count} deliver(ies) will be sent again.")


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "type", "organization", "inbox", "occurred_at")
    list_filter = ("type", "organization")
    list_select_related = ("organization", "inbox")
    search_fields = ("public_id",)
    fields = (
        "public_id",
        "organization",
        "inbox",
        "type",
        "ordering_key",
        "occurred_at",
        "created_at",
        "body",
    )
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    @admin.display(description="Payload")
    def body(self, event):
        import json

        return format_html("<pre>{}</pre>", json.dumps(event.payload, indent=2, ensure_ascii=False))
