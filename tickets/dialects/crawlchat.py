"""CrawlChat (seed 004): ``POST /ticket/{COLLECTION_ID}`` with ``x-api-key``.

A collection is one of our inboxes (its public id). ``customTags`` (string, boolean or
number values) become the ticket's metadata. The answer is
``{"ticketNumber": <int>, "privateUrl": "<private ticket page>"}``; the same emails go out
as for any new ticket. Errors are ``{"error": "<type>", "message": "..."}``.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.permissions import IsIntegrator
from helpdesk.fields import StrictCharField, StrictEmailField, StrictMessageField
from helpdesk.headers import idempotency_key, replay_headers
from helpdesk.problems import Problem
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

TAG = "crawlchat"


class CrawlChatCustomTagsField(JSONObjectField):
    default_error_messages = {
        "bad_value": "Values must be strings, booleans or numbers (key {name!r}).",
        "too_many": f"At most {limits.METADATA_MAX_KEYS} tags.",
    }

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        for key, value in data.items():
            if not isinstance(value, str | bool | int | float):
                self.fail("bad_value", name=key)
        if len(data) > limits.METADATA_MAX_KEYS:
            self.fail("too_many")
        return data


class CrawlChatCreateTicketInput(serializers.Serializer):
    userEmail = StrictEmailField(help_text="The user on whose behalf the ticket is created.")  # noqa: N815
    title = StrictCharField(min_length=limits.SUBJECT_MIN_LENGTH, max_length=limits.SUBJECT_MAX_LENGTH)
    message = StrictMessageField(max_length=limits.SEED_MESSAGE_MAX_LENGTH)
    customTags = CrawlChatCustomTagsField(  # noqa: N815
        required=False, help_text="Record<string, string | boolean | number>, kept on the ticket."
    )


class CrawlChatCreateTicketOutput(serializers.Serializer):
    ticketNumber = serializers.IntegerField(help_text="The ticket's number in its collection.")  # noqa: N815
    privateUrl = serializers.URLField(  # noqa: N815
        help_text="The private ticket page, with its key: share it with the user."
    )


ErrorOutput = inline_serializer(
    "CrawlChatError",
    fields={
        "error": serializers.CharField(help_text='The error type, e.g. "Bad Request".'),
        "message": serializers.CharField(),
        "details": error_detail_output("CrawlChatErrorDetail", many=True, required=False),
        "requestId": serializers.CharField(required=False),
    },
)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorOutput, description=description)


class CrawlChatView(DialectView):
    authentication_classes = [HeaderApiKeyAuthentication]
    permission_classes = [IsIntegrator]
    field_names = {
        "customer.email": "userEmail",
        "subject": "title",
        "metadata": "customTags",
        "body": "message",
    }
    unauthenticated_message = "Invalid or missing API key"

    def error_body(self, problem: Problem) -> dict:
        return simple_error_body(problem, self.request_id, field_message="Invalid {field}: {message}")


class NotFoundView(DialectNotFoundView, CrawlChatView):
    pass


class CreateTicketView(CrawlChatView):
    @extend_schema(
        operation_id="crawlchat_create_ticket",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="CrawlChat: create a ticket in a collection",
        description=(
            "Drop-in for CrawlChat's `POST /ticket/{COLLECTION_ID}`. The collection id is an "
            "inbox public id of the key's organization; another organization's (or an unknown) "
            "id is a 404."
        ),
        tags=[TAG],
        request=CrawlChatCreateTicketInput,
        responses={
            201: CrawlChatCreateTicketOutput,
            400: _error("Missing or invalid fields; customTags values other than string/boolean/number."),
            401: _error("Invalid or missing API key."),
            403: _error("The key is restricted to another collection."),
            404: _error("No such collection for this key."),
            405: _error("Only POST."),
            413: _error("Body too large."),
            415: _error("The body is not JSON."),
            429: _error("Daily tickets per user, monthly quota, or request rate reached."),
            500: _error("Server-side error; `requestId` identifies it."),
        },
        examples=[
            OpenApiExample(
                "Seed example",
                request_only=True,
                value={
                    "userEmail": "user@email.com",
                    "title": "Enquiry about pricing",
                    "message": "Please explain about the pricing plans",
                },
            ),
            OpenApiExample(
                "Created",
                response_only=True,
                status_codes=["201"],
                value={"ticketNumber": 51, "privateUrl": "https://helpdesk.example.com/t/01J.../tk_..."},
            ),
        ],
    )
    def post(self, request, collection_id: str):
        principal = request.auth
        if not looks_like_public_id(collection_id):
            raise domain.NotFound("Collection not found.")
        try:
            inbox = resolve_inbox(principal, public_id=collection_id)
        except domain.NotFound:
            raise domain.NotFound("Collection not found.") from None
        except domain.PermissionDenied:
            raise domain.PermissionDenied("This API key is restricted to another collection.") from None
        data = self.validated(CrawlChatCreateTicketInput)
        ticket, created = services.create_ticket(
            dialect="crawlchat",
            inbox=inbox,
            customer=services.CustomerData(email=data["userEmail"]),
            subject=data["title"],
            message=data["message"],
            metadata=data.get("customTags") or {},
            # customTags whose keys are custom fields fill them too.
            custom_fields_from_metadata=True,
            actor=principal.actor,
            idempotency_key=idempotency_key(request),
        )
        return Response(
            {"ticketNumber": ticket.number, "privateUrl": ticket.private_url},
            status=status.HTTP_201_CREATED,
            headers=replay_headers(created),
        )
