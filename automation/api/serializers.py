"""Shapes of /api/v1/triggers and /api/v1/macros. The body's names are the issue's:
name, active, position, event, conditions {all, any}, actions [{type, value}]. The
services check the rules' vocabulary (rules.py); these check the types."""

from rest_framework import serializers

from helpdesk.fields import StrictCharField, StrictMessageField
from helpdesk.serializers import InputSerializer, OutputSerializer

from .. import rules
from ..models import Macro, Trigger

CONDITIONS_HELP = (
    '{"all": [...], "any": [...]}; each condition {"field", "op", "value"}. Fields: ' + rules.FIELDS_HELP
)
ACTIONS_HELP = "A list of {type, value}. Types: " + "; ".join(
    f"{name}: {label}" for name, label in rules.ACTION_TYPES.items()
)


class TriggerSerializer(OutputSerializer):
    class Meta:
        model = Trigger
        fields = [
            "id",
            "name",
            "active",
            "position",
            "event",
            "conditions",
            "actions",
            "fired_count",
            "last_fired_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ConditionsField(serializers.JSONField):
    default_error_messages = {"not_object": 'Must be an object with "all" and "any" lists.'}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_object")
        return super().to_internal_value(data)


class ActionsField(serializers.JSONField):
    default_error_messages = {"not_list": "Must be a list of actions."}

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_list")
        return super().to_internal_value(data)


class TriggerInputSerializer(InputSerializer):
    name = StrictCharField(max_length=100)
    active = serializers.BooleanField(required=False, default=True)
    position = serializers.IntegerField(required=False, default=0, min_value=0, max_value=100_000)
    event = serializers.ChoiceField(choices=list(rules.EVENTS))
    conditions = ConditionsField(required=False, help_text=CONDITIONS_HELP)
    actions = ActionsField(help_text=ACTIONS_HELP)


class TriggerUpdateSerializer(InputSerializer):
    name = StrictCharField(required=False, max_length=100)
    active = serializers.BooleanField(required=False)
    position = serializers.IntegerField(required=False, min_value=0, max_value=100_000)
    event = serializers.ChoiceField(required=False, choices=list(rules.EVENTS))
    conditions = ConditionsField(required=False, help_text=CONDITIONS_HELP)
    actions = ActionsField(required=False, help_text=ACTIONS_HELP)


class PreviewInputSerializer(InputSerializer):
    conditions = ConditionsField(help_text=CONDITIONS_HELP)


class PreviewTicketSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    reference = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class PreviewSerializer(serializers.Serializer):
    checked = serializers.IntegerField(help_text="How many recent tickets were checked (at most 100).")
    data = PreviewTicketSerializer(many=True)


class MacroSerializer(OutputSerializer):
    personal = serializers.BooleanField(source="is_personal", read_only=True)

    class Meta:
        model = Macro
        fields = [
            "id",
            "name",
            "reply",
            "actions",
            "shortcut",
            "personal",
            "usage_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class MacroInputSerializer(InputSerializer):
    name = StrictCharField(max_length=100)
    reply = StrictMessageField(
        required=False, allow_blank=True, min_length=None, max_length=rules.TEMPLATE_MAX, default=""
    )
    actions = ActionsField(
        required=False, help_text="As a trigger's, limited to the ticket's own changes and notes."
    )
    shortcut = StrictCharField(required=False, allow_blank=True, max_length=1, default="")
    personal = serializers.BooleanField(required=False, default=False, help_text="Only you see and apply it.")


class MacroUpdateSerializer(InputSerializer):
    name = StrictCharField(required=False, max_length=100)
    reply = StrictMessageField(
        required=False, allow_blank=True, min_length=None, max_length=rules.TEMPLATE_MAX
    )
    actions = ActionsField(required=False)
    shortcut = StrictCharField(required=False, allow_blank=True, max_length=1)


class MacroApplySerializer(InputSerializer):
    ticket = StrictCharField(max_length=26, help_text="The ticket's id.")
