"""Input and output shapes of /api/v1/webhooks and /api/v1/events."""

from rest_framework import serializers

from helpdesk.fields import StrictCharField

from ..models import EVERY_EVENT, EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from ..services.endpoints import DESCRIPTION_MAX_LENGTH
from ..services.transport import URL_MAX_LENGTH


class StrictBooleanField(serializers.BooleanField):
    """true or false, not "yes" or 1."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


EVENT_TYPES_HELP = (
    f'Event types to receive: {", ".join(EventType.values)}; or "{EVERY_EVENT}" for every type.'
)


class EventTypesField(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(
            child=StrictCharField(max_length=40),
            allow_empty=False,
            max_length=len(EventType.values) + 1,
            help_text=EVENT_TYPES_HELP,
            **kwargs,
        )


class WebhookInputSerializer(serializers.Serializer):
    url = StrictCharField(
        max_length=URL_MAX_LENGTH, help_text="Receives a signed POST per event; https in production."
    )
    events = EventTypesField()
    description = StrictCharField(required=False, allow_blank=True, max_length=DESCRIPTION_MAX_LENGTH)
    include_internal_notes = StrictBooleanField(
        required=False, help_text="Send message.created for internal notes too (default false)."
    )
    active = StrictBooleanField(required=False, help_text="Default true.")


class WebhookUpdateSerializer(WebhookInputSerializer):
    url = StrictCharField(required=False, max_length=URL_MAX_LENGTH)
    events = EventTypesField(required=False)


class WebhookSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    events = serializers.ListField(child=serializers.CharField(), read_only=True)
    disabled_reason = serializers.CharField(
        read_only=True,
        help_text='Why it was disabled automatically: "gone" (410) or "failing"; empty otherwise.',
    )
    previous_secret_expires_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Until then, deliveries are signed with the previous secret too (after a rotation).",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "include_internal_notes",
            "active",
            "disabled_reason",
            "disabled_at",
            "failing_since",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="The signing secret (whsec_...). Shown only in this answer: store it now."
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "started_at", "duration_ms", "status_code", "response_body", "error"]
        read_only_fields = fields


class DeliveryEventSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    type = serializers.CharField()


class DeliverySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    event = DeliveryEventSerializer(read_only=True)
    attempt_log = AttemptSerializer(many=True, read_only=True, help_text="Every try, first to last.")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "status",
            "attempts",
            "next_attempt_at",
            "last_attempt_at",
            "delivered_at",
            "created_at",
            "attempt_log",
        ]
        read_only_fields = fields


class ActorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["agent", "customer", "integrator", "system"])
    id = serializers.JSONField(help_text="The agent's id (a number), the customer's id, or null.")
    name = serializers.CharField()


class FeedEventSerializer(serializers.Serializer):
    """An event: exactly the body its webhook deliveries carry."""

    type = serializers.ChoiceField(choices=[*EventType.values, "ping"])
    id = serializers.CharField(help_text="Unique per event; the webhook-id header of its deliveries.")
    timestamp = serializers.DateTimeField(help_text="When the change was made.")
    actor = ActorSerializer()
    data = serializers.DictField(
        help_text="ticket (as GET /api/v1/tickets shows it) and, per type: message; changes "
        "({field: {before, after}}); before and after; customer."
    )

    class Meta:
        ref_name = "FeedEvent"

    def to_representation(self, instance):
        return instance.payload
