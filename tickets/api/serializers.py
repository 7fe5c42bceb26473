"""Input and output shapes of the native API. Inputs validate types and bounds; the
services validate again and own every write."""

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from helpdesk.fields import StrictCharField, StrictEmailField, StrictMessageField
from helpdesk.serializers import InputSerializer, OutputSerializer
from tickets import limits
from tickets.exceptions import InvalidInput
from tickets.models import (
    Attachment,
    Customer,
    CustomField,
    Inbox,
    Message,
    Tag,
    Ticket,
    TicketEvent,
    TicketLink,
)
from tickets.services import validate_metadata

# Output ---------------------------------------------------------------------------------


class CustomerSerializer(OutputSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    # Text, not format "email": a customer known only by external_id has an empty email.
    email = serializers.CharField(read_only=True, help_text="Email address; empty when unknown.")

    class Meta:
        model = Customer
        fields = ["id", "email", "name", "external_id", "metadata", "erased_at", "created_at", "updated_at"]
        read_only_fields = fields


class AgentSerializer(OutputSerializer):
    name = serializers.CharField(source="display_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "name", "email"]
        read_only_fields = fields


class AttachmentSerializer(OutputSerializer):
    id = serializers.CharField(source="public_id", read_only=True)

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "created_at"]
        read_only_fields = fields


class MessageAuthorSerializer(serializers.Serializer):
    type = serializers.CharField(source="author_type")
    name = serializers.CharField(source="author_name")


class MessageSerializer(OutputSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    author = MessageAuthorSerializer(source="*", read_only=True)
    body_html = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = ["id", "kind", "author", "channel", "body", "body_html", "attachments", "created_at"]
        read_only_fields = fields

    def get_body_html(self, message) -> str:
        return message.html


class SlaPolicyReferenceSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    name = serializers.CharField()


class TicketSlaSerializer(serializers.Serializer):
    """The ticket's service levels, as stored by the SLA clocks (never computed here)."""

    policy = SlaPolicyReferenceSerializer(
        source="sla_policy", allow_null=True, help_text="The policy that applies."
    )
    first_reply_due_at = serializers.DateTimeField(allow_null=True)
    next_reply_due_at = serializers.DateTimeField(
        allow_null=True, help_text="Running while a customer message waits for an answer."
    )
    resolution_due_at = serializers.DateTimeField(allow_null=True)
    breached = serializers.ListField(
        source="sla_breached",
        child=serializers.ChoiceField(choices=["first_reply", "next_reply", "resolution"]),
        help_text="The targets missed so far.",
    )
    paused = serializers.SerializerMethodField(help_text="The status pauses the clocks.")

    def get_paused(self, ticket) -> bool:
        return ticket.sla_paused_at is not None


class TicketSatisfactionSerializer(serializers.Serializer):
    rating = serializers.ChoiceField(choices=["good", "bad"])
    comment = serializers.CharField()
    rated_at = serializers.DateTimeField()


class TicketSerializer(OutputSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    inbox = serializers.CharField(source="inbox.public_id", read_only=True)
    customer = CustomerSerializer(read_only=True)
    assignee = AgentSerializer(read_only=True, allow_null=True)
    tags = serializers.SerializerMethodField()
    private_url = serializers.CharField(read_only=True)
    sla = TicketSlaSerializer(source="*", read_only=True)
    satisfaction = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "reference",
            "inbox",
            "subject",
            "status",
            "priority",
            "category",
            "type",
            "channel",
            "customer",
            "assignee",
            "tags",
            "metadata",
            "custom_fields",
            "reply_address",
            "private_url",
            "created_at",
            "updated_at",
            "first_response_at",
            "last_customer_message_at",
            "last_agent_reply_at",
            "resolved_at",
            "closed_at",
            "sla",
            "satisfaction",
        ]
        read_only_fields = fields

    def get_tags(self, ticket) -> list[str]:
        return sorted(tag.name for tag in ticket.tags.all())

    @extend_schema_field(TicketSatisfactionSerializer(allow_null=True))
    def get_satisfaction(self, ticket) -> dict | None:
        """The customer's rating, null until they rate (read with the list's one query)."""
        if getattr(ticket, "first_message", None) is not None and not Ticket.satisfaction.is_cached(ticket):
            return None  # just created (create_ticket's answer): nobody has rated it yet
        try:
            survey = ticket.satisfaction
        except ObjectDoesNotExist:
            return None
        if not survey.rating:
            return None
        return TicketSatisfactionSerializer(survey).data


class CustomFieldSerializer(OutputSerializer):
    inboxes = serializers.SerializerMethodField()

    class Meta:
        model = CustomField
        fields = [
            "id",
            "key",
            "label",
            "type",
            "options",
            "required_to_resolve",
            "inboxes",
            "position",
            "created_at",
        ]
        read_only_fields = fields

    def get_inboxes(self, field) -> list[str]:
        return [inbox.public_id for inbox in field.inboxes.all()]


class TicketDetailSerializer(TicketSerializer):
    messages = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "messages"]
        read_only_fields = fields

    @extend_schema_field(MessageSerializer(many=True))
    def get_messages(self, ticket):
        messages = ticket.messages.all()
        if not self.context.get("include_notes", True):
            messages = [message for message in messages if message.is_public]
        return MessageSerializer(messages, many=True, context=self.context).data


class TagSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=limits.TAG_NAME_MAX_LENGTH)

    class Meta:
        model = Tag
        fields = ["id", "name", "created_at"]
        read_only_fields = ["id", "created_at"]


class InboxSerializer(OutputSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    support_email = serializers.CharField(
        read_only=True, help_text="Receives a copy of each new ticket; empty when none is set."
    )
    business_hours = serializers.CharField(
        source="business_hours.public_id",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The business hours its SLA targets count in (/api/v1/business-hours); null: 24/7.",
    )

    class Meta:
        model = Inbox
        fields = [
            "id",
            "name",
            "prefix",
            "support_email",
            "daily_limit_per_customer",
            "auto_assignment",
            "auto_resolve_pending_days",
            "assign_on_reply",
            "is_default",
            "business_hours",
            "satisfaction_survey",
            "satisfaction_delay_minutes",
            "created_at",
        ]
        read_only_fields = fields


class EventSerializer(OutputSerializer):
    actor = serializers.CharField(source="actor_label", read_only=True)

    class Meta:
        model = TicketEvent
        fields = ["id", "action", "actor", "field", "before", "after", "created_at"]
        read_only_fields = fields


# Input ----------------------------------------------------------------------------------
#
# Inputs are strict about types: a number where text is expected, or text where an object
# is expected, is a 400 naming the field rather than a silent conversion.


class EnumField(serializers.ChoiceField):
    """A choice among a TextChoices' values, whose error lists the allowed values."""

    def __init__(self, choices, **kwargs):
        super().__init__(choices=choices.choices, **kwargs)
        allowed = ", ".join(choices.values)
        self.error_messages["invalid_choice"] = f'"{{input}}" is not one of: {allowed}.'


class MetadataField(serializers.JSONField):
    """A JSON object within the bounds in ``tickets/limits.py``."""

    default_error_messages = {"not_object": "Must be a JSON object."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_object")
        try:
            return validate_metadata(super().to_internal_value(data))
        except InvalidInput as error:
            raise serializers.ValidationError(error.message) from None


class TagNamesField(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(
            child=StrictCharField(max_length=limits.TAG_NAME_MAX_LENGTH),
            max_length=limits.TAGS_PER_TICKET,
            help_text="Tag names; unknown names are created.",
            **kwargs,
        )


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": True})
class AgentReferenceField(serializers.Field):
    """An agent by id (number) or email; null to unassign."""

    default_error_messages = {"invalid": "Give the agent's id (a number) or email, or null."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        return str(data).strip()

    def to_representation(self, value):
        return value


class CustomerInputSerializer(InputSerializer):
    email = StrictEmailField(required=False, allow_blank=True)
    external_id = StrictCharField(required=False, allow_blank=True, max_length=limits.EXTERNAL_ID_MAX_LENGTH)
    name = StrictCharField(required=False, allow_blank=True, max_length=limits.NAME_MAX_LENGTH)
    metadata = MetadataField(required=False, help_text="Merged into the customer's stored metadata.")

    def validate(self, attrs):
        if not attrs.get("email") and not attrs.get("external_id"):
            raise serializers.ValidationError({"email": "An email or an external_id is required."})
        return attrs


class CustomFieldValuesField(serializers.JSONField):
    """An object of custom field values by key; each value is checked by the services
    against its field's type (a bad one is a 400 naming ``custom_fields.<key>``)."""

    default_error_messages = {"not_object": "Must be a JSON object."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_object")
        return super().to_internal_value(data)


CUSTOM_FIELDS_HELP = (
    'Values of the organization\'s custom fields by key, e.g. {"order_id": "A-1042"}; '
    "null clears a field. Checked by each field's type."
)


class TicketCreateSerializer(InputSerializer):
    inbox = StrictCharField(
        required=False,
        max_length=26,
        help_text="Inbox id. May be left out when the key is restricted to one inbox, "
        "or the organization has a default inbox or only one.",
    )
    customer = CustomerInputSerializer()
    subject = StrictCharField(min_length=limits.SUBJECT_MIN_LENGTH, max_length=limits.SUBJECT_MAX_LENGTH)
    message = StrictMessageField(help_text="The first message, in Markdown.")
    priority = EnumField(Ticket.Priority, default=Ticket.Priority.NORMAL)
    category = StrictCharField(required=False, allow_blank=True, max_length=limits.CATEGORY_MAX_LENGTH)
    type = StrictCharField(required=False, allow_blank=True, max_length=limits.TYPE_MAX_LENGTH)
    tags = TagNamesField(required=False)
    metadata = MetadataField(required=False)
    custom_fields = CustomFieldValuesField(required=False, help_text=CUSTOM_FIELDS_HELP)
    reply_address = StrictEmailField(
        required=False, allow_blank=True, help_text="Where answers go; the customer's email by default."
    )


class TicketUpdateSerializer(InputSerializer):
    subject = StrictCharField(
        required=False, min_length=limits.SUBJECT_MIN_LENGTH, max_length=limits.SUBJECT_MAX_LENGTH
    )
    status = EnumField(Ticket.Status, required=False)
    priority = EnumField(Ticket.Priority, required=False)
    category = StrictCharField(required=False, allow_blank=True, max_length=limits.CATEGORY_MAX_LENGTH)
    type = StrictCharField(required=False, allow_blank=True, max_length=limits.TYPE_MAX_LENGTH)
    assignee = AgentReferenceField(
        required=False, allow_null=True, help_text="The agent's id or email; null to unassign."
    )
    tags = TagNamesField(required=False)
    metadata = MetadataField(required=False, help_text="Replaces the ticket's metadata.")
    custom_fields = CustomFieldValuesField(
        required=False, help_text=CUSTOM_FIELDS_HELP + " Only the fields named change."
    )
    reply_address = StrictEmailField(required=False, allow_blank=True)
    inbox = StrictCharField(
        required=False,
        max_length=26,
        help_text="Inbox id: moves the ticket there (a new number and reference in that inbox; "
        "the id and the private link stay).",
    )


class MessageCreateSerializer(InputSerializer):
    body = StrictMessageField(help_text="Markdown.")
    kind = EnumField(Message.Kind, default=Message.Kind.REPLY)
    author_type = serializers.ChoiceField(
        choices=[("agent", "Agent side"), ("customer", "The ticket's customer")],
        default="agent",
        help_text="Post on the organization's side (default) or as the ticket's customer.",
    )

    def validate(self, attrs):
        if attrs["author_type"] == "customer" and attrs["kind"] == Message.Kind.NOTE:
            raise serializers.ValidationError({"kind": "Internal notes come from the agent side."})
        return attrs


class CustomerUpsertSerializer(CustomerInputSerializer):
    pass


class CustomerUpdateSerializer(InputSerializer):
    email = StrictEmailField(required=False, allow_blank=True)
    name = StrictCharField(required=False, allow_blank=True, max_length=limits.NAME_MAX_LENGTH)
    metadata = MetadataField(required=False, help_text="Replaces the customer's metadata.")


class TagInputSerializer(InputSerializer):
    name = StrictCharField(max_length=limits.TAG_NAME_MAX_LENGTH)


class CustomFieldCreateSerializer(InputSerializer):
    key = StrictCharField(max_length=36, help_text="Letters, digits and _, from a letter; never changes.")
    label = StrictCharField(max_length=100)
    type = EnumField(CustomField.Type)
    options = serializers.ListField(
        child=StrictCharField(max_length=100), required=False, max_length=200, help_text="Dropdown choices."
    )
    required_to_resolve = serializers.BooleanField(required=False, default=False)
    inboxes = serializers.ListField(
        child=StrictCharField(max_length=26),
        required=False,
        max_length=100,
        help_text="Inbox ids it shows in; empty for every inbox.",
    )
    position = serializers.IntegerField(required=False, default=0, min_value=0, max_value=10_000)


class CustomFieldUpdateSerializer(InputSerializer):
    # Accepted only unchanged (a client sending the field back as read): the key and the
    # type never change, and asking to change them is a 400, not a silent 200.
    key = StrictCharField(required=False, max_length=100)
    type = StrictCharField(required=False, max_length=100)
    label = StrictCharField(required=False, max_length=100)
    options = serializers.ListField(child=StrictCharField(max_length=100), required=False, max_length=200)
    required_to_resolve = serializers.BooleanField(required=False)
    inboxes = serializers.ListField(child=StrictCharField(max_length=26), required=False, max_length=100)
    position = serializers.IntegerField(required=False, min_value=0, max_value=10_000)


# List envelopes -------------------------------------------------------------------------


class MessageListSerializer(serializers.Serializer):
    data = MessageSerializer(many=True)


class EventListSerializer(serializers.Serializer):
    data = EventSerializer(many=True)


# Merge, split, link ---------------------------------------------------------------------


class LinkedTicketSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", read_only=True)
    reference = serializers.CharField(read_only=True)
    subject = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)


class TicketLinkSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=TicketLink.Kind.choices,
        read_only=True,
        help_text="How the other ticket relates to this one: related, merged_into, merged_from, "
        "split_into, split_from.",
    )
    ticket = LinkedTicketSerializer(source="other", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class TicketLinkListSerializer(serializers.Serializer):
    data = TicketLinkSerializer(many=True)


class MergeInputSerializer(InputSerializer):
    into = StrictCharField(max_length=26, help_text="The id of the ticket to merge this one into.")


class SplitInputSerializer(InputSerializer):
    message = StrictCharField(max_length=26, help_text="The id of the message that becomes a new ticket.")
    subject = StrictCharField(
        required=False,
        min_length=limits.SUBJECT_MIN_LENGTH,
        max_length=limits.SUBJECT_MAX_LENGTH,
        help_text="The new ticket's subject; the original's when left out.",
    )


class LinkInputSerializer(InputSerializer):
    ticket = StrictCharField(max_length=26, help_text="The id of the related ticket.")
