"""Ctxfy (seed 001): ``POST /v1/support/tickets`` with ``Authorization: Bearer <key>``.

The bearer is an organization API key (the user is named by ``reply_address``) or a
credential of the user themselves (a customer token ``hdc_...`` or a customer JWT). The
ticket is enriched with the user's id, plan and token balance from the customer's
metadata, stored, and a copy goes to the support address through
``SUPPORT_EMAIL_SENDER``. The answer says truthfully what happened to that copy:
``sent``, ``queued``, ``failed``, or ``stored`` (no sender configured).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.authentication import CustomerJWTAuthentication, CustomerTokenAuthentication
from helpdesk.fields import StrictCharField, StrictMessageField
from helpdesk.headers import idempotency_key, replay_headers
from helpdesk.problems import Problem
from helpdesk.schema import IDEMPOTENCY_KEY_PARAMETER
from tickets import limits, services
from tickets.mail import outbound
from tickets.models import Delivery, Ticket
from tickets.selectors import resolve_inbox

from .authentication import BearerApiKeyAuthentication
from .base import (
    DialectNotFoundView,
    DialectView,
    IsIntegratorOrCustomer,
    error_detail_output,
    isoformat,
)

TAG = "ctxfy"
UNAUTHORIZED_MESSAGE = "Authentication required. Please provide a valid API token"
BAD_REQUEST_MESSAGE = "The request contains invalid parameters or malformed data"
SERVER_ERROR_MESSAGE = "An unexpected error occurred on the server"

# What happened to the copy for the support address.
COPY_STATUSES = ["sent", "queued", "failed", "stored"]

# Where in the customer's metadata the enrichment looks, first match wins.
PLAN_KEYS = ("subscription_plan", "plan", "subscriptionPlan")
TOKEN_BALANCE_KEYS = ("token_balance", "tokens", "tokenBalance", "balance")
USER_ID_KEYS = ("user_id", "userId", "id")


class CtxfyCreateTicketInput(serializers.Serializer):
    type = StrictCharField(max_length=limits.TYPE_MAX_LENGTH, help_text="e.g. billing, technical, feedback")
    reply_address = StrictCharField(
        max_length=limits.EXTERNAL_ID_MAX_LENGTH,
        help_text="Email or address for the support reply. With an organization key it also "
        "names the user: an email finds the customer by email, anything else by external id.",
    )
    message = StrictMessageField(max_length=limits.SEED_MESSAGE_MAX_LENGTH)


class CtxfyCreateTicketOutput(serializers.Serializer):
    id = serializers.CharField(help_text="The ticket's id.")
    created_at = serializers.DateTimeField()
    status = serializers.ChoiceField(
        choices=COPY_STATUSES,
        help_text="What happened to the copy for the support address: sent, queued (a worker "
        "will send it), failed (retries exhausted; the ticket is stored), stored (no email "
        "sender configured).",
    )
    sent_at = serializers.DateTimeField(allow_null=True)


ErrorOutput = inline_serializer(
    "CtxfyError",
    fields={
        "error": serializers.CharField(),
        "message": serializers.CharField(),
        "code": serializers.IntegerField(),
        "details": error_detail_output("CtxfyErrorDetail", many=True, required=False, help_text="On 400."),
        "requestId": serializers.CharField(required=False, help_text="On 500."),
    },
)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorOutput, description=description)


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except DjangoValidationError:
        return False
    return True


def _first(metadata: dict, keys: tuple[str, ...]):
    for key in keys:
        if metadata.get(key) not in (None, ""):
            return metadata[key]
    return None


def enrichment(customer) -> dict:
    """The user's id, subscription plan and token balance, as the ticket keeps them."""
    metadata = customer.metadata or {}
    return {
        "user_id": customer.external_id or _first(metadata, USER_ID_KEYS) or customer.public_id,
        "subscription_plan": _first(metadata, PLAN_KEYS),
        "token_balance": _first(metadata, TOKEN_BALANCE_KEYS),
    }


def subject_for(ticket_type: str, message: str) -> str:
    """Ctxfy tickets have no subject: ``<Type>: <first line of the message>``."""
    first_line = next((line.strip() for line in message.splitlines() if line.strip()), "")
    label = ticket_type.strip().replace("_", " ").capitalize() or "Support"
    subject = f"{label}: {first_line}" if first_line else f"{label} request"
    if len(subject) > limits.SUBJECT_MAX_LENGTH:
        subject = subject[: limits.SUBJECT_MAX_LENGTH - 1].rstrip() + "…"
    return subject if len(subject) >= limits.SUBJECT_MIN_LENGTH else f"{subject} request"


def support_copy_status(ticket: Ticket) -> tuple[str, object]:
    """What happened to the new-ticket copy for the support address, and when it was sent."""
    deliveries = list(
        Delivery.objects.filter(ticket=ticket, kind=Delivery.Kind.NEW_TICKET).only("status", "sent_at")
    )
    if not deliveries:
        # With mail on, a worker has yet to write the copy: it is on its way.
        return ("queued" if outbound.sending_enabled() else "stored"), None
    sent_times = [delivery.sent_at for delivery in deliveries if delivery.status == Delivery.Status.SENT]
    if sent_times:
        return "sent", min((moment for moment in sent_times if moment), default=None)
    if any(delivery.status == Delivery.Status.QUEUED for delivery in deliveries):
        return "queued", None
    return "failed", None


class CtxfyView(DialectView):
    authentication_classes = [
        BearerApiKeyAuthentication,
        CustomerTokenAuthentication,
        CustomerJWTAuthentication,
    ]
    permission_classes = [IsIntegratorOrCustomer]
    field_names = {
        "customer.email": "reply_address",
        "customer.external_id": "reply_address",
        "customer": "reply_address",
        "body": "message",
    }
    unauthenticated_message = UNAUTHORIZED_MESSAGE
    invalid_message = BAD_REQUEST_MESSAGE

    def error_body(self, problem: Problem) -> dict:
        # The document's own 500 message; a 503 (the database away) says to retry.
        message = SERVER_ERROR_MESSAGE if problem.is_unexpected else problem.message
        body = {"error": problem.phrase, "message": message, "code": problem.status}
        if problem.status == 400:
            body["details"] = problem.details
        if problem.status >= 500:
            body["requestId"] = self.request_id
        return body


class NotFoundView(DialectNotFoundView, CtxfyView):
    pass


class CreateTicketView(CtxfyView):
    @extend_schema(
        operation_id="ctxfy_create_support_ticket",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="Ctxfy: create a support ticket",
        description=(
            "Drop-in for Ctxfy's `POST /v1/support/tickets`. Bearer: an organization API key "
            "(`hdk_...`; the user is named by `reply_address`) or the user's own customer token "
            "(`hdc_...`) or customer JWT."
        ),
        tags=[TAG],
        request=CtxfyCreateTicketInput,
        responses={
            201: CtxfyCreateTicketOutput,
            400: _error("Invalid parameters; `details` names each field."),
            401: _error("Missing or invalid bearer token."),
            403: _error("The credential may not create tickets here."),
            404: _error("No such route."),
            405: _error("Only POST."),
            413: _error("Body too large."),
            415: _error("The body is not JSON."),
            429: _error("Daily tickets per user, monthly quota, or request rate reached."),
            500: _error("Unexpected error, with `requestId`."),
        },
        examples=[
            OpenApiExample(
                "Seed example",
                request_only=True,
                value={"type": "example_string", "reply_address": "123 Main St", "message": "example_string"},
            ),
            OpenApiExample(
                "Created",
                response_only=True,
                status_codes=["201"],
                value={
                    "id": "01JN2XG6H7I8J9K0L1M2N3O4P5",
                    "created_at": "2024-12-25T10:00:00Z",
                    "status": "sent",
                    "sent_at": "2024-12-25T10:00:00Z",
                },
            ),
        ],
    )
    def post(self, request):
        principal = request.auth
        data = self.validated(CtxfyCreateTicketInput)
        reply_address = data["reply_address"].strip()
        inbox = resolve_inbox(principal)
        # Naming the customer and opening the ticket are one change: a refused ticket
        # (daily limit, quota) leaves no new customer behind.
        with transaction.atomic():
            if principal.is_customer:
                customer = principal.customer
            elif _is_email(reply_address):
                customer, _ = services.upsert_customer(
                    organization=inbox.organization,
                    data=services.CustomerData(email=reply_address),
                    actor=principal.actor,
                )
            else:
                customer, _ = services.upsert_customer(
                    organization=inbox.organization,
                    data=services.CustomerData(external_id=reply_address),
                    actor=principal.actor,
                )
            ticket, created = services.create_ticket(
                dialect="ctxfy",
                inbox=inbox,
                customer=customer,
                subject=subject_for(data["type"], data["message"]),
                message=data["message"],
                type=data["type"].strip(),
                reply_address=reply_address,
                metadata=enrichment(customer),
                actor=principal.actor,
                idempotency_key=idempotency_key(request),
            )
        # After the commit: with tasks run immediately the copy has been attempted by now.
        copy_status, sent_at = support_copy_status(ticket)
        return Response(
            {
                "id": ticket.public_id,
                "created_at": isoformat(ticket.created_at),
                "status": copy_status,
                "sent_at": isoformat(sent_at),
            },
            status=status.HTTP_201_CREATED,
            headers=replay_headers(created),
        )
