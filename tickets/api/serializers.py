"""Input and output shapes of the native API. Inputs validate types and bounds; the
services validate again and own every write."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from helpdesk.fields import StrictCharField, StrictEmailField
from helpdesk.serializers import InputSerializer, OutputSerializer
from tickets import limits
from tickets.exceptions import InvalidInput
from tickets.models import Attachment, Customer, Inbox, Message, Tag, Ticket, TicketEvent
from tickets.services import validate_metadata

# Output ---------------------------------------------------------------------------------


class CustomerSerializer(OutputSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    # Text, not format "email": a customer known only by external_id has an empty email.
    email = serializers.CharField(read_only=True, help_text="Email address; empty when unknown.")

    class Meta:
        model = Customer
        fields = ["id", "email", "name", "external_id", "metadata", "created_at", "updated_at"]
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


class TicketSerializer(OutputSerializer):
    id = serializers.CharField(source="public_id", read_only=True)
    inbox = serializers.CharField(source="inbox.public_id", read_only=True)
    customer = CustomerSerializer(read_only=True)
    assignee = AgentSerializer(read_only=True, allow_null=True)
    tags = serializers.SerializerMethodField()
    private_url = serializers.CharField(read_only=True)

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
            "reply_address",
            "private_url",
            "created_at",
            "updated_at",
            "first_response_at",
            "resolved_at",
            "closed_at",
        ]
        read_only_fields = fields

    def get_tags(self, ticket) -> list[str]:
        return sorted(tag.name for tag in ticket.tags.all())


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


class TicketCreateSerializer(InputSerializer):
    inbox = StrictCharField(
        required=False,
        max_length=26,
        help_text="Inbox id. May be left out when the key is restricted to one inbox, "
        "or the organization has a default inbox or only one.",
    )
    customer = CustomerInputSerializer()
    subject = StrictCharField(min_length=limits.SUBJECT_MIN_LENGTH, max_length=limits.SUBJECT_MAX_LENGTH)
    message = StrictCharField(
        min_length=limits.MESSAGE_MIN_LENGTH,
        max_length=limits.MESSAGE_MAX_LENGTH,
        help_text="The first message, in Markdown.",
    )
    priority = EnumField(Ticket.Priority, default=Ticket.Priority.NORMAL)
    category = StrictCharField(required=False, allow_blank=True, max_length=limits.CATEGORY_MAX_LENGTH)
    type = StrictCharField(required=False, allow_blank=True, max_length=limits.TYPE_MAX_LENGTH)
    tags = TagNamesField(required=False)
    metadata = MetadataField(required=False)
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
    reply_address = StrictEmailField(required=False, allow_blank=True)


class MessageCreateSerializer(InputSerializer):
    body = StrictCharField(
        min_length=limits.MESSAGE_MIN_LENGTH, max_length=limits.MESSAGE_MAX_LENGTH, help_text="Markdown."
    )
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


# List envelopes -------------------------------------------------------------------------


class MessageListSerializer(serializers.Serializer):
    data = MessageSerializer(many=True)


class EventListSerializer(serializers.Serializer):
    data = EventSerializer(many=True)
