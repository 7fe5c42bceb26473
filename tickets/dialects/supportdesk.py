"""SupportDesk (seed 003): ``POST /api/v1/tickets/api-create`` with ``X-API-Key``.

The customer must already exist (``customerExternalId``); the ticket goes to the inbox
the key is restricted to, else the organization's default inbox, and is offered to the
least-loaded available N1 agent (then it is IN_PROGRESS). Success and errors use
SupportDesk's envelope: ``{"success": true, "data": {...}, "timestamp"}`` and
``{"success": false, "error": {"code", "message", "details"}, "timestamp"}``.
"""

import uuid

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.permissions import IsIntegrator
from helpdesk.fields import StrictCharField, StrictMessageField
from helpdesk.headers import idempotency_key, replay_headers
from helpdesk.problems import DOMAIN_STATUS, Problem
from helpdesk.schema import IDEMPOTENCY_KEY_PARAMETER
from tickets import exceptions as domain
from tickets import limits, services
from tickets.models import Tag, Ticket
from tickets.selectors import resolve_inbox

from .authentication import HeaderApiKeyAuthentication
from .base import (
    DialectNotFoundView,
    DialectView,
    JSONObjectField,
    envelope_error_body,
    error_detail_output,
    isoformat,
    now_iso,
)

TAG = "supportdesk"

# SupportDesk's priorities and ours: MEDIUM is our normal.
PRIORITIES = {
    "LOW": Ticket.Priority.LOW,
    "MEDIUM": Ticket.Priority.NORMAL,
    "HIGH": Ticket.Priority.HIGH,
    "URGENT": Ticket.Priority.URGENT,
    "CRITICAL": Ticket.Priority.CRITICAL,
}
PRIORITY_NAMES = {ours: theirs for theirs, ours in PRIORITIES.items()}
PRIORITY_CHOICES = list(PRIORITIES)
# SupportDesk's document knows one status, IN_PROGRESS: a ticket raised by a business event
# is taken in hand at once. Its one route creates tickets, so every answer says it, whether
# or not an agent was free to assign, and a replay of one handled since answers what the
# first create answered (docs/dialects.md).
CREATED_STATUS = "IN_PROGRESS"
STATUS_CHOICES = [CREATED_STATUS]
CHANNEL_CHOICES = [channel.upper() for channel in Ticket.Channel.values]

# The codes the document gives domain refusals; other failures take their status's code.
DOMAIN_CODES = {
    "plan_limit_reached": "PLAN_LIMIT_REACHED",
    "daily_limit_reached": "DAILY_LIMIT_REACHED",
    "customer_not_found": "CUSTOMER_NOT_FOUND",
}


class CustomerNotFound(domain.NotFound):
    code = "customer_not_found"


class SupportDeskCreateTicketInput(serializers.Serializer):
    customerExternalId = StrictCharField(  # noqa: N815
        max_length=limits.EXTERNAL_ID_MAX_LENGTH, help_text="An existing customer's externalId."
    )
    subject = StrictCharField(min_length=limits.SUBJECT_MIN_LENGTH, max_length=limits.SUBJECT_MAX_LENGTH)
    description = StrictMessageField(
        max_length=limits.SEED_MESSAGE_MAX_LENGTH, help_text="Markdown; rendered sanitized."
    )
    priority = serializers.ChoiceField(choices=PRIORITY_CHOICES, default="MEDIUM")
    category = StrictCharField(required=False, allow_blank=True, max_length=limits.CATEGORY_MAX_LENGTH)
    metadata = JSONObjectField(required=False, help_text="Free-form data (orderId, errorCode, ...).")
    tagIds = serializers.ListField(  # noqa: N815
        child=serializers.UUIDField(format="hex_verbose"),
        required=False,
        max_length=limits.TAGS_PER_TICKET,
        help_text="Ids (UUID) of existing tags of your organization.",
    )


class SupportDeskCustomerOutput(serializers.Serializer):
    id = serializers.CharField()
    externalId = serializers.CharField()  # noqa: N815
    email = serializers.CharField(allow_null=True)


class SupportDeskAgentOutput(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField()


class SupportDeskTicketOutput(serializers.Serializer):
    id = serializers.CharField()
    ticketNumber = serializers.CharField(help_text='The ticket reference, e.g. "INV-1042".')  # noqa: N815
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUS_CHOICES)
    priority = serializers.ChoiceField(choices=PRIORITY_CHOICES)
    channel = serializers.ChoiceField(choices=CHANNEL_CHOICES, help_text="Always API for this route.")
    customer = SupportDeskCustomerOutput()
    assignedAgent = SupportDeskAgentOutput(allow_null=True)  # noqa: N815
    createdAt = serializers.DateTimeField()  # noqa: N815


SuccessOutput = inline_serializer(
    "SupportDeskCreated",
    fields={
        "success": serializers.BooleanField(),
        "data": SupportDeskTicketOutput(),
        "timestamp": serializers.DateTimeField(),
    },
)


ErrorOutput = inline_serializer(
    "SupportDeskError",
    fields={
        "success": serializers.BooleanField(),
        "error": inline_serializer(
            "SupportDeskErrorBody",
            fields={
                "code": serializers.CharField(help_text="VALIDATION_ERROR, PLAN_LIMIT_REACHED, ..."),
                "message": serializers.CharField(),
                "details": error_detail_output("SupportDeskErrorDetail", many=True),
                "requestId": serializers.CharField(required=False),
            },
        ),
        "timestamp": serializers.DateTimeField(),
    },
)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorOutput, description=description)


def ticket_data(ticket: Ticket) -> dict:
    customer = ticket.customer
    agent = ticket.assignee
    return {
        "id": ticket.public_id,
        "ticketNumber": ticket.reference,
        "subject": ticket.subject,
        "status": CREATED_STATUS,
        "priority": PRIORITY_NAMES[ticket.priority],
        "channel": ticket.channel.upper(),
        "customer": {
            "id": customer.public_id,
            "externalId": customer.external_id,
            "email": customer.email or None,
        },
        "assignedAgent": (
            {"id": str(agent.pk), "name": agent.display_name, "email": agent.email} if agent else None
        ),
        "createdAt": isoformat(ticket.created_at),
    }


class SupportDeskView(DialectView):
    authentication_classes = [HeaderApiKeyAuthentication]
    permission_classes = [IsIntegrator]
    field_names = {"message": "description", "body": "description", "tags": "tagIds"}
    # SupportDesk documents a used-up monthly quota as 403 PLAN_LIMIT_REACHED.
    domain_status = {**DOMAIN_STATUS, domain.QuotaReached: 403}
    unauthenticated_message = "Missing or invalid API key (send it as X-API-Key)."

    def error_body(self, problem: Problem) -> dict:
        return {
            **envelope_error_body(problem, self.request_id, domain_codes=DOMAIN_CODES),
            "timestamp": now_iso(),
        }


class NotFoundView(DialectNotFoundView, SupportDeskView):
    pass


class CreateTicketView(SupportDeskView):
    @extend_schema(
        operation_id="supportdesk_create_ticket",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="SupportDesk: create a ticket on behalf of an existing customer",
        description=(
            "Drop-in for SupportDesk's `POST /api/v1/tickets/api-create`. The channel is API. "
            "When an N1 agent is available the ticket is auto-assigned (fewest open tickets "
            "first) and becomes IN_PROGRESS; the agent gets an email and a dashboard notification."
        ),
        tags=[TAG],
        request=SupportDeskCreateTicketInput,
        responses={
            201: SuccessOutput,
            400: _error("VALIDATION_ERROR: invalid or missing fields, unknown tagIds."),
            401: _error("UNAUTHORIZED: missing or invalid X-API-Key."),
            403: _error("PLAN_LIMIT_REACHED: monthly ticket quota reached; FORBIDDEN otherwise."),
            404: _error("CUSTOMER_NOT_FOUND: customerExternalId matches no customer."),
            405: _error("METHOD_NOT_ALLOWED."),
            413: _error("PAYLOAD_TOO_LARGE."),
            415: _error("UNSUPPORTED_MEDIA_TYPE: send JSON."),
            429: _error("RATE_LIMITED or DAILY_LIMIT_REACHED."),
            500: _error("INTERNAL_ERROR, with a requestId."),
        },
        examples=[
            OpenApiExample(
                "Seed example",
                request_only=True,
                value={
                    "customerExternalId": "user_42",
                    "subject": "Payment failed for order #12345",
                    "description": "Payment attempt failed with CARD_DECLINED. Customer has been "
                    "notified by email.",
                    "priority": "HIGH",
                    "metadata": {"orderId": "12345", "amount": 99.9},
                },
            )
        ],
    )
    def post(self, request):
        principal = request.auth
        data = self.validated(SupportDeskCreateTicketInput)
        organization = principal.api_key.organization
        customer = services.customer_by_external_id(
            organization=organization, external_id=data["customerExternalId"].strip()
        )
        if customer is None:
            raise CustomerNotFound("customerExternalId matches no customer in your organization.")
        tags = self._tags(organization, data.get("tagIds", []))
        inbox = resolve_inbox(principal)
        ticket, created = services.create_ticket(
            dialect="supportdesk",
            inbox=inbox,
            customer=customer,
            subject=data["subject"],
            message=data["description"],
            priority=PRIORITIES[data["priority"]],
            category=data.get("category", ""),
            metadata=data.get("metadata") or {},
            # Keys of the free-form metadata that are custom fields fill them too.
            custom_fields_from_metadata=True,
            tags=tags,
            channel=Ticket.Channel.API,
            auto_assign=True,
            actor=principal.actor,
            idempotency_key=idempotency_key(request),
        )
        ticket = Ticket.objects.select_related("customer", "assignee").get(pk=ticket.pk)
        return Response(
            {"success": True, "data": ticket_data(ticket), "timestamp": now_iso()},
            status=status.HTTP_201_CREATED,
            headers=replay_headers(created),
        )

    @staticmethod
    def _tags(organization, tag_ids: list[uuid.UUID]) -> list[Tag]:
        found = {tag.pk: tag for tag in Tag.objects.filter(organization=organization, pk__in=tag_ids)}
        missing = [
            {"field": f"tagIds[{index}]", "message": f"No tag with id {tag_id} in your organization."}
            for index, tag_id in enumerate(tag_ids)
            if tag_id not in found
        ]
        if missing:
            raise ValidationError({item["field"]: [item["message"]] for item in missing})
        return [found[tag_id] for tag_id in dict.fromkeys(tag_ids)]
