"""appbox (seed 000): ``POST /api/v1/paywall/{paywallId}/create-ticket`` with ``x-api-key``.

A paywall is one of our inboxes (its public id). The user is found or created by email
and ``userMeta`` is merged into the customer's metadata. Success is
``{"ticket": {"id": <ticket number>, "status": "<status>"}}`` (201); every error is
``{"error": "<type>", "message": "..."}`` with the seed's error types.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.permissions import IsIntegrator
from helpdesk.fields import StrictCharField, StrictEmailField, StrictMessageField
from helpdesk.headers import idempotency_key, replay_headers
from helpdesk.problems import DOMAIN_STATUS, Problem
from helpdesk.schema import IDEMPOTENCY_KEY_PARAMETER
from tickets import exceptions as domain
from tickets import limits, services
from tickets.selectors import resolve_inbox

from .authentication import HeaderApiKeyAuthentication
from .base import (
    DialectNotFoundView,
    DialectView,
    JSONObjectField,
    error_detail_output,
    looks_like_public_id,
    simple_error_body,
)

TAG = "appbox"
PAYWALL_MISMATCH = "API key owner does not match paywall owner"
# appbox's document knows one status, that of a ticket just received. Its one route
# creates tickets, so every answer says it: one auto-assigned at once, and a replay of
# one handled since, answer what the first create answered (docs/dialects.md).
CREATED_STATUS = "open"
STATUSES = [CREATED_STATUS]


class AppboxCreateTicketInput(serializers.Serializer):
    email = StrictEmailField(help_text="User's email address; the user is created on first ticket.")
    subject = StrictCharField(min_length=limits.SUBJECT_MIN_LENGTH, max_length=limits.SUBJECT_MAX_LENGTH)
    message = StrictMessageField(max_length=limits.SEED_MESSAGE_MAX_LENGTH)
    userMeta = JSONObjectField(  # noqa: N815 - the seed's field name
        required=False, help_text="Custom metadata linked to the user (merged into what we know)."
    )


class AppboxTicketOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="The ticket's number in its paywall (inbox).")
    status = serializers.ChoiceField(choices=STATUSES)


class AppboxCreateTicketOutput(serializers.Serializer):
    ticket = AppboxTicketOutput()


ErrorOutput = inline_serializer(
    "AppboxError",
    fields={
        "error": serializers.CharField(help_text='The error type, e.g. "Bad Request".'),
        "message": serializers.CharField(),
        "details": error_detail_output(
            "AppboxErrorDetail", many=True, required=False, help_text="On 400: the fields at fault."
        ),
        "requestId": serializers.CharField(required=False, help_text="On 500: quote it to support."),
    },
)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorOutput, description=description)


class AppboxView(DialectView):
    authentication_classes = [HeaderApiKeyAuthentication]
    permission_classes = [IsIntegrator]
    field_names = {"customer.email": "email", "customer.metadata": "userMeta", "body": "message"}
    # appbox has no quota of its own; a used-up plan is a limit like the daily one.
    domain_status = {**DOMAIN_STATUS, domain.QuotaReached: 429}
    unauthenticated_message = "Invalid or missing API key"
    invalid_message = "Missing or invalid parameters"

    def error_body(self, problem: Problem) -> dict:
        return simple_error_body(
            problem, self.request_id, field_message=self.invalid_message + ": {field}: {message}"
        )


class NotFoundView(DialectNotFoundView, AppboxView):
    pass


class CreateTicketView(AppboxView):
    @extend_schema(
        operation_id="appbox_create_ticket",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="appbox: create a support ticket for a user of a paywall",
        description=(
            "Drop-in for appbox's `POST /api/v1/paywall/{paywallId}/create-ticket`. The paywall "
            "id is an inbox public id of the key's organization. At most the inbox's daily "
            "limit of tickets per user (2 in the demo) — then 429."
        ),
        tags=[TAG],
        request=AppboxCreateTicketInput,
        responses={
            201: AppboxCreateTicketOutput,
            400: _error("Missing or invalid parameters (email, subject, message, userMeta)."),
            401: _error("Invalid or missing API key."),
            403: _error(f"{PAYWALL_MISMATCH} (also for an unknown paywall id)."),
            404: _error("No such route."),
            405: _error("Only POST."),
            413: _error("Body too large."),
            415: _error("The body is not JSON."),
            429: _error("Rate limit exceeded (tickets per user per day), or the plan's quota."),
            500: _error("Server-side error; `requestId` identifies it."),
        },
        examples=[
            OpenApiExample(
                "Seed example",
                request_only=True,
                value={
                    "email": "user@example.com",
                    "subject": "Cannot access premium features",
                    "message": "I purchased a subscription yesterday but still can't access premium "
                    "features. My order ID is #12345.",
                    "userMeta": {"my-user-uuid": "pojfoih27938y50ujtb4ip1n2b", "plan": "premium"},
                },
            ),
            OpenApiExample(
                "Created",
                response_only=True,
                status_codes=["201"],
                value={"ticket": {"id": 42, "status": "open"}},
            ),
        ],
    )
    def post(self, request, paywall_id: str):
        principal = request.auth
        # An unknown paywall answers like another owner's: the key learns nothing about
        # which ids exist elsewhere, and the answer stays within the documented codes.
        if not looks_like_public_id(paywall_id):
            raise domain.PermissionDenied(PAYWALL_MISMATCH)
        try:
            inbox = resolve_inbox(principal, public_id=paywall_id)
        except (domain.NotFound, domain.PermissionDenied):
            raise domain.PermissionDenied(PAYWALL_MISMATCH) from None
        data = self.validated(AppboxCreateTicketInput)
        ticket, created = services.create_ticket(
            dialect="appbox",
            inbox=inbox,
            customer=services.CustomerData(email=data["email"], metadata=data.get("userMeta") or {}),
            subject=data["subject"],
            message=data["message"],
            actor=principal.actor,
            idempotency_key=idempotency_key(request),
        )
        return Response(
            {"ticket": {"id": ticket.number, "status": CREATED_STATUS}},
            status=status.HTTP_201_CREATED,
            headers=replay_headers(created),
        )
