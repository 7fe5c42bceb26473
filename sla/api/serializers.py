"""Input and output shapes of /api/v1/business-hours and /api/v1/sla-policies. Inputs
check types; ``sla/services.py`` validates the rest and owns every write."""

from rest_framework import serializers

from helpdesk.fields import StrictCharField
from tickets.models import Ticket

from ..calendar import DAYS
from ..models import BusinessHours, SlaPolicy


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON number, not "60"."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class ClosedObjectSerializer(serializers.Serializer):
    """An object whose keys are all known. DRF drops unknown keys silently, and for these
    groups that is dangerous: a misspelt condition (``"tags"``) would leave a policy with
    no condition, matching every ticket. Each unknown key is a 400 naming it instead."""

    unknown_message = "Unknown key."

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                known = ", ".join(self.fields)
                raise serializers.ValidationError(
                    {key: [f"{self.unknown_message} Known: {known}."] for key in unknown}
                )
        return super().to_internal_value(data)


class WeeklyIntervalSerializer(serializers.Serializer):
    day = serializers.ChoiceField(choices=DAYS)
    start = StrictCharField(max_length=5, help_text='"HH:MM", local time.')
    end = StrictCharField(
        max_length=5, help_text='"HH:MM"; "24:00" is midnight; an end not after the start runs over midnight.'
    )


class BusinessHoursInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100)
    time_zone = StrictCharField(max_length=64, required=False, help_text="IANA time zone, default UTC.")
    weekly = WeeklyIntervalSerializer(many=True, allow_empty=False, max_length=100)
    holidays = serializers.ListField(
        child=StrictCharField(max_length=10),
        required=False,
        max_length=1000,
        help_text="Local dates, YYYY-MM-DD.",
    )
    inboxes = serializers.ListField(
        child=StrictCharField(max_length=26),
        required=False,
        max_length=1000,
        help_text="Inbox ids that count SLA time in these hours (an inbox without any works 24/7).",
    )


class BusinessHoursUpdateSerializer(BusinessHoursInputSerializer):
    name = StrictCharField(max_length=100, required=False)
    weekly = WeeklyIntervalSerializer(many=True, allow_empty=False, max_length=100, required=False)


class BusinessHoursSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    weekly = WeeklyIntervalSerializer(many=True, read_only=True)
    holidays = serializers.ListField(child=serializers.DateField(), read_only=True)
    inboxes = serializers.SerializerMethodField()

    class Meta:
        model = BusinessHours
        fields = ["id", "name", "time_zone", "weekly", "holidays", "inboxes", "created_at", "updated_at"]
        read_only_fields = fields

    def get_inboxes(self, hours) -> list[str]:
        return [inbox.public_id for inbox in hours.inboxes.all()]


class ConditionsSerializer(ClosedObjectSerializer):
    unknown_message = "Unknown condition."

    inbox = serializers.ListField(
        child=StrictCharField(max_length=26), required=False, help_text="Inbox ids."
    )
    priority = serializers.ListField(
        child=serializers.ChoiceField(choices=Ticket.Priority.choices), required=False
    )
    channel = serializers.ListField(
        child=serializers.ChoiceField(choices=Ticket.Channel.choices), required=False
    )
    tag = serializers.ListField(
        child=StrictCharField(max_length=50), required=False, help_text="Any of these tags."
    )
    customer_metadata = serializers.DictField(
        required=False, help_text='Every key equals, e.g. {"plan": "pro"}.', child=serializers.JSONField()
    )


class TargetsSerializer(ClosedObjectSerializer):
    unknown_message = "Unknown target."

    first_reply_minutes = StrictIntegerField(required=False, allow_null=True, min_value=1)
    next_reply_minutes = StrictIntegerField(
        required=False, allow_null=True, min_value=1, help_text="After each customer message."
    )
    resolution_minutes = StrictIntegerField(required=False, allow_null=True, min_value=1)


class EscalationSerializer(ClosedObjectSerializer):
    unknown_message = "Unknown setting."

    warning_percent = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=99,
        help_text="Warn at this share of the target.",
    )
    warning_minutes_before = StrictIntegerField(
        required=False, allow_null=True, min_value=1, help_text="Warn this long before the target."
    )
    raise_priority_to = serializers.ChoiceField(
        choices=Ticket.Priority.choices,
        required=False,
        allow_null=True,
        help_text="On breach (never lowers it).",
    )


class SlaPolicyInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100)
    position = StrictIntegerField(required=False, min_value=0, max_value=10_000, help_text="Lower first.")
    is_active = StrictBooleanField(required=False)
    business_hours = StrictCharField(
        required=False, allow_null=True, max_length=26, help_text="Business hours id; null: the inbox's."
    )
    time_basis = serializers.ChoiceField(choices=SlaPolicy.TimeBasis.choices, required=False)
    conditions = ConditionsSerializer(required=False)
    targets = TargetsSerializer()
    escalation = EscalationSerializer(required=False)


class SlaPolicyUpdateSerializer(SlaPolicyInputSerializer):
    name = StrictCharField(max_length=100, required=False)
    targets = TargetsSerializer(required=False)


class SlaPolicySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    business_hours = serializers.CharField(source="business_hours.public_id", read_only=True, allow_null=True)
    conditions = ConditionsSerializer(read_only=True)
    targets = serializers.SerializerMethodField()
    escalation = serializers.SerializerMethodField()

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "name",
            "position",
            "is_active",
            "business_hours",
            "time_basis",
            "conditions",
            "targets",
            "escalation",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_targets(self, policy) -> TargetsSerializer:
        return {
            "first_reply_minutes": policy.first_reply_minutes,
            "next_reply_minutes": policy.next_reply_minutes,
            "resolution_minutes": policy.resolution_minutes,
        }

    def get_escalation(self, policy) -> EscalationSerializer:
        return {
            "warning_percent": policy.warning_percent,
            "warning_minutes_before": policy.warning_minutes_before,
            "raise_priority_to": policy.raise_priority_to or None,
        }


class SatisfactionSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    ticket = serializers.CharField(source="ticket.public_id", help_text="The ticket's id.")
    reference = serializers.CharField(source="ticket.reference")
    inbox = serializers.CharField(source="ticket.inbox.public_id")
    assignee = serializers.EmailField(source="ticket.assignee.email", allow_null=True, default=None)
    rating = serializers.ChoiceField(choices=["good", "bad"])
    comment = serializers.CharField()
    rated_at = serializers.DateTimeField()
