"""The in-app Support API (seed 002): a user's own tickets, and the admin side.

User routes (a customer token ``hdc_...`` or a customer JWT, as ``Authorization: Bearer``):
``POST/GET /v1/support/tickets``, ``GET /v1/support/tickets/{id}``,
``POST /v1/support/tickets/{id}/messages``, ``POST /v1/support/tickets/{id}/close``.
Admin routes (an agent's personal token ``hda_...``): ``GET /v1/admin/support/tickets``,
``GET``/``PATCH /v1/admin/support/tickets/{id}``, ``POST /v1/admin/support/tickets/{id}/messages``.

Ids are our ticket and message public ids (ULIDs, like the seed's). Lists answer
``{"success": true, "data": [...], "pagination": {...}}``; errors
``{"success": false, "error": {"code", "message", "details"}}``. Users never see internal
notes; illegal status moves are 409 ``INVALID_TRANSITION``.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.authentication import (
    AgentTokenAuthentication,
    CustomerJWTAuthentication,
    CustomerTokenAuthentication,
)
from accounts.permissions import IsAgent, IsCustomer
from helpdesk.fields import StrictCharField, StrictMessageField
from helpdesk.headers import idempotency_key, replay_headers
from helpdesk.problems import Problem
from helpdesk.schema import IDEMPOTENCY_KEY_PARAMETER
from tickets import exceptions as domain
from tickets import limits, services
from tickets.models import Message, Ticket
from tickets.selectors import find_agent, resolve_inbox, tickets_for_principal

from .base import (
    DialectNotFoundView,
    DialectView,
    envelope_error_body,
    error_detail_output,
    isoformat,
    looks_like_public_id,
    paginate,
)

TAG = "inapp"
USER_TAG = "inapp"
CATEGORIES = ["billing", "technical", "account", "other"]
USER_PRIORITIES = ["low", "normal", "high", "urgent"]
# The in-app document's lifecycle: open, in_progress, resolved, closed. Ours has two more
# that it lacks: pending (waiting on the customer) and on hold (waiting on a third party)
# are, in its words, still being worked on (docs/dialects.md).
STATUS_NAMES: dict[str, str] = {
    Ticket.Status.OPEN: "open",
    Ticket.Status.IN_PROGRESS: "in_progress",
    Ticket.Status.PENDING: "in_progress",
    Ticket.Status.ON_HOLD: "in_progress",
    Ticket.Status.RESOLVED: "resolved",
    Ticket.Status.CLOSED: "closed",
}
STATUSES: list[str] = list(dict.fromkeys(STATUS_NAMES.values()))


def seed_status(status: str) -> str:
    """A ticket's status in the in-app document's words."""
    return STATUS_NAMES[status]


def statuses_named(name: str) -> list[str]:
    """Our statuses that one of the document's status names stands for (for its filter)."""
    return [ours for ours, theirs in STATUS_NAMES.items() if theirs == name]


# The codes the document gives domain refusals; other failures take their status's code.
DOMAIN_CODES = {
    "invalid_transition": "INVALID_TRANSITION",
    "daily_limit_reached": "DAILY_LIMIT_REACHED",
    "plan_limit_reached": "PLAN_LIMIT_REACHED",
}
# The assignment field goes by several names in the wild; all mean the same.
ASSIGNMENT_FIELDS = ("assignee_id", "assigned_to", "assignee")


# Shapes --------------------------------------------------------------------------------


def message_data(message: Message, *, for_admin: bool = False) -> dict:
    data = {
        "id": message.public_id,
        "body": message.body,
        "is_admin": message.author_type != Message.AuthorType.CUSTOMER,
        "created_at": isoformat(message.created_at),
    }
    if for_admin:
        data["is_internal"] = message.kind == Message.Kind.NOTE
        data["author"] = message.author_name
    return data


def ticket_summary(ticket: Ticket, *, for_admin: bool = False) -> dict:
    data = {
        "id": ticket.public_id,
        "subject": ticket.subject,
        "status": seed_status(ticket.status),
        "priority": ticket.priority,
        "category": ticket.category or None,
        "created_at": isoformat(ticket.created_at),
        "updated_at": isoformat(ticket.updated_at),
    }
    if for_admin:
        customer, agent = ticket.customer, ticket.assignee
        data["reference"] = ticket.reference
        data["user"] = {
            "id": customer.public_id,
            "email": customer.email or None,
            "name": customer.name or None,
            "external_id": customer.external_id or None,
        }
        data["assignee"] = (
            {"id": agent.pk, "name": agent.display_name, "email": agent.email} if agent else None
        )
    return data


def ticket_detail(ticket: Ticket, *, for_admin: bool = False) -> dict:
    messages = ticket.messages.select_related("author_user", "author_customer").order_by("created_at", "id")
    if not for_admin:
        messages = messages.filter(kind=Message.Kind.REPLY)
    return {
        **ticket_summary(ticket, for_admin=for_admin),
        "messages": [message_data(message, for_admin=for_admin) for message in messages],
    }


class InappMessageOutput(serializers.Serializer):
    id = serializers.CharField()
    body = serializers.CharField()
    is_admin = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class InappAdminMessageOutput(InappMessageOutput):
    is_internal = serializers.BooleanField(help_text="An internal note: never shown to the user.")
    author = serializers.CharField()


class InappTicketSummaryOutput(serializers.Serializer):
    id = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUSES)
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices)
    category = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class InappTicketDetailOutput(InappTicketSummaryOutput):
    messages = InappMessageOutput(many=True)


class InappUserOutput(serializers.Serializer):
    id = serializers.CharField()
    email = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    external_id = serializers.CharField(allow_null=True)


class InappAgentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField()


class InappAdminTicketSummaryOutput(InappTicketSummaryOutput):
    reference = serializers.CharField()
    user = InappUserOutput()
    assignee = InappAgentOutput(allow_null=True)


class InappAdminTicketDetailOutput(InappAdminTicketSummaryOutput):
    messages = InappAdminMessageOutput(many=True)


class InappPaginationOutput(serializers.Serializer):
    page = serializers.IntegerField()
    per_page = serializers.IntegerField()
    total = serializers.IntegerField()
    total_pages = serializers.IntegerField()


def list_output(name: str, item) -> serializers.Serializer:
    return inline_serializer(
        name,
        fields={
            "success": serializers.BooleanField(),
            "data": item(many=True),
            "pagination": InappPaginationOutput(),
        },
    )


ErrorOutput = inline_serializer(
    "InappError",
    fields={
        "success": serializers.BooleanField(),
        "error": inline_serializer(
            "InappErrorBody",
            fields={
                "code": serializers.CharField(
                    help_text="VALIDATION_ERROR, NOT_FOUND, INVALID_TRANSITION, ..."
                ),
                "message": serializers.CharField(),
                "details": error_detail_output("InappErrorDetail", many=True),
                "requestId": serializers.CharField(required=False),
            },
        ),
    },
)


def errors(*codes: int) -> dict:
    descriptions = {
        400: "VALIDATION_ERROR: invalid or missing fields.",
        401: "UNAUTHORIZED: missing or invalid bearer token.",
        403: "FORBIDDEN: this credential may not use this route.",
        404: "NOT_FOUND: no such ticket for this caller.",
        405: "METHOD_NOT_ALLOWED.",
        409: "INVALID_TRANSITION: the ticket's status does not allow this.",
        413: "PAYLOAD_TOO_LARGE.",
        415: "UNSUPPORTED_MEDIA_TYPE: send JSON.",
        429: "RATE_LIMITED or DAILY_LIMIT_REACHED.",
        500: "INTERNAL_ERROR, with a requestId.",
    }
    return {code: OpenApiResponse(ErrorOutput, description=descriptions[code]) for code in codes}


PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="Page number (default 1)."),
    OpenApiParameter("per_page", OpenApiTypes.INT, description="Results per page (default 20, at most 100)."),
]


# Input ---------------------------------------------------------------------------------


class InappCreateTicketInput(serializers.Serializer):
    subject = StrictCharField(min_length=limits.SUBJECT_MIN_LENGTH, max_length=limits.SUBJECT_MAX_LENGTH)
    body = StrictMessageField(max_length=limits.SEED_MESSAGE_MAX_LENGTH)
    category = serializers.ChoiceField(choices=CATEGORIES, required=False, allow_null=True)
    priority = serializers.ChoiceField(choices=USER_PRIORITIES, default="normal")


class InappReplyInput(serializers.Serializer):
    body = StrictMessageField(max_length=limits.SEED_MESSAGE_MAX_LENGTH)


class InappAdminReplyInput(InappReplyInput):
    is_internal = serializers.BooleanField(
        default=False, help_text="An internal note for agents, never shown to the user."
    )


class InappAdminUpdateInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUSES, required=False)
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, required=False)
    category = serializers.ChoiceField(choices=CATEGORIES, required=False, allow_null=True)
    assignee_id = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="The agent's id or email; null to unassign. Also read as `assigned_to` or `assignee`.",
    )
    assigned_to = serializers.JSONField(required=False, allow_null=True, help_text="Same as assignee_id.")
    assignee = serializers.JSONField(required=False, allow_null=True, help_text="Same as assignee_id.")

    def validate(self, attrs):
        given = [name for name in ASSIGNMENT_FIELDS if name in attrs]
        if len(given) > 1:
            raise ValidationError(
                {given[1]: ["Give the assignee once (assignee_id, assigned_to or assignee)."]}
            )
        for name in given:
            value = attrs[name]
            if isinstance(value, bool) or (value is not None and not isinstance(value, int | str)):
                raise ValidationError({name: ["An agent id, an email, or null."]})
        return attrs


# Views ---------------------------------------------------------------------------------


class InappView(DialectView):
    field_names = {"message": "body"}
    unauthenticated_message = "Authentication required: send a valid bearer token."

    def error_body(self, problem: Problem) -> dict:
        return envelope_error_body(problem, self.request_id, domain_codes=DOMAIN_CODES)

    def ticket(self, ticket_id: str) -> Ticket:
        """The caller's ticket by public id; anyone else's is simply not found."""
        ticket = (
            tickets_for_principal(self.request.auth)
            .select_related("organization", "customer", "assignee")
            .filter(public_id=ticket_id)
            .first()
            if looks_like_public_id(ticket_id)
            else None
        )
        if ticket is None:
            raise domain.NotFound("Ticket not found.")
        return ticket


class UserView(InappView):
    authentication_classes = [CustomerTokenAuthentication, CustomerJWTAuthentication]
    permission_classes = [IsCustomer]


class AdminView(InappView):
    # A user's credential is recognised so it gets a clear 403, not a puzzling 401.
    authentication_classes = [
        AgentTokenAuthentication,
        CustomerTokenAuthentication,
        CustomerJWTAuthentication,
    ]
    permission_classes = [IsAgent]

    def problem_for(self, exc) -> Problem:
        problem = super().problem_for(exc)
        if problem.status == 403 and problem.code == "forbidden":
            problem.message = "Admin access required: use an agent token."
        return problem


class NotFoundView(DialectNotFoundView, InappView):
    pass


class UserTicketsView(UserView):
    @extend_schema(
        operation_id="inapp_create_ticket",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="In-app: create a support ticket",
        tags=[TAG],
        request=InappCreateTicketInput,
        responses={201: InappTicketDetailOutput, **errors(400, 401, 403, 413, 415, 429, 500)},
    )
    def post(self, request):
        principal = request.auth
        data = self.validated(InappCreateTicketInput)
        inbox = resolve_inbox(principal)
        ticket, created = services.create_ticket(
            dialect="inapp",
            inbox=inbox,
            customer=principal.customer,
            subject=data["subject"],
            message=data["body"],
            priority=data["priority"],
            category=data.get("category") or "",
            actor=principal.actor,
            idempotency_key=idempotency_key(request),
        )
        return Response(
            ticket_detail(ticket), status=status.HTTP_201_CREATED, headers=replay_headers(created)
        )

    @extend_schema(
        operation_id="inapp_list_tickets",
        summary="In-app: list my support tickets",
        tags=[TAG],
        parameters=PAGE_PARAMETERS,
        responses={
            200: list_output("InappTicketList", InappTicketSummaryOutput),
            **errors(400, 401, 403, 429, 500),
        },
    )
    def get(self, request):
        tickets = tickets_for_principal(request.auth).order_by("-created_at", "-id")
        rows, pagination = paginate(tickets, request)
        return Response(
            {"success": True, "data": [ticket_summary(ticket) for ticket in rows], "pagination": pagination}
        )


class UserTicketView(UserView):
    @extend_schema(
        operation_id="inapp_get_ticket",
        summary="In-app: get one of my tickets with its messages",
        tags=[TAG],
        responses={200: InappTicketDetailOutput, **errors(401, 403, 404, 429, 500)},
    )
    def get(self, request, ticket_id: str):
        return Response(ticket_detail(self.ticket(ticket_id)))


class UserReplyView(UserView):
    @extend_schema(
        operation_id="inapp_reply",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="In-app: reply to my ticket",
        description="A reply to a resolved ticket reopens it; a closed ticket takes no replies (409).",
        tags=[TAG],
        request=InappReplyInput,
        responses={201: InappMessageOutput, **errors(400, 401, 403, 404, 409, 413, 415, 429, 500)},
    )
    def post(self, request, ticket_id: str):
        ticket = self.ticket(ticket_id)
        data = self.validated(InappReplyInput)
        message, created = services.add_message(
            ticket=ticket,
            body=data["body"],
            actor=request.auth.actor,
            idempotency_key=idempotency_key(request),
        )
        return Response(
            message_data(message), status=status.HTTP_201_CREATED, headers=replay_headers(created)
        )


class UserCloseView(UserView):
    @extend_schema(
        operation_id="inapp_close",
        summary="In-app: close my ticket",
        tags=[TAG],
        request=None,
        responses={200: InappTicketDetailOutput, **errors(401, 403, 404, 409, 429, 500)},
    )
    def post(self, request, ticket_id: str):
        ticket = services.change_status(
            ticket=self.ticket(ticket_id), status=Ticket.Status.CLOSED, actor=request.auth.actor
        )
        return Response(ticket_detail(ticket))


class AdminTicketsView(AdminView):
    @extend_schema(
        operation_id="inapp_admin_list_tickets",
        summary="In-app admin: list all support tickets",
        tags=[TAG],
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=STATUSES, description="Filter by status."),
            *PAGE_PARAMETERS,
        ],
        responses={
            200: list_output("InappAdminTicketList", InappAdminTicketSummaryOutput),
            **errors(400, 401, 403, 429, 500),
        },
    )
    def get(self, request):
        tickets = tickets_for_principal(request.auth).select_related("customer", "assignee")
        wanted = request.query_params.get("status", "")
        if wanted:
            if wanted not in STATUSES:
                raise ValidationError({"status": [f"Must be one of: {', '.join(STATUSES)}."]})
            tickets = tickets.filter(status__in=statuses_named(wanted))
        rows, pagination = paginate(tickets.order_by("-created_at", "-id"), request)
        return Response(
            {
                "success": True,
                "data": [ticket_summary(ticket, for_admin=True) for ticket in rows],
                "pagination": pagination,
            }
        )


class AdminTicketView(AdminView):
    @extend_schema(
        operation_id="inapp_admin_get_ticket",
        summary="In-app admin: get a ticket with every message (internal notes marked)",
        tags=[TAG],
        responses={200: InappAdminTicketDetailOutput, **errors(401, 403, 404, 429, 500)},
    )
    def get(self, request, ticket_id: str):
        return Response(ticket_detail(self.ticket(ticket_id), for_admin=True))

    @extend_schema(
        operation_id="inapp_admin_update_ticket",
        summary="In-app admin: update status, priority or assignment",
        description=(
            "Statuses follow open → in_progress → resolved → closed; an admin may close from any "
            "status and reopen a closed ticket. The assignee is an agent's id or email (null "
            "unassigns), as `assignee_id`, `assigned_to` or `assignee`."
        ),
        tags=[TAG],
        request=InappAdminUpdateInput,
        responses={200: InappAdminTicketDetailOutput, **errors(400, 401, 403, 404, 409, 413, 415, 429, 500)},
    )
    def patch(self, request, ticket_id: str):
        ticket = self.ticket(ticket_id)
        data = self.validated(InappAdminUpdateInput)
        changes = {name: data[name] for name in ("status", "priority") if name in data}
        if changes.get("status") == seed_status(ticket.status):
            # The status this API shows the ticket in (a pending ticket shows in_progress):
            # sending it back asks for nothing.
            del changes["status"]
        if "category" in data:
            changes["category"] = data["category"] or ""
        for name in ASSIGNMENT_FIELDS:  # The serializer lets only one of them through.
            if name in data:
                changes["assignee"] = find_agent(
                    organization_id=ticket.organization_id, reference=data[name], field_name=name
                )
        services.update_ticket(ticket=ticket, actor=request.auth.actor, **changes)
        return Response(ticket_detail(self.ticket(ticket_id), for_admin=True))


class AdminReplyView(AdminView):
    @extend_schema(
        operation_id="inapp_admin_reply",
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        summary="In-app admin: reply to a ticket (is_admin: true)",
        description="An admin reply to an open ticket moves it to in_progress. `is_internal: true` "
        "makes it an internal note the user never sees.",
        tags=[TAG],
        request=InappAdminReplyInput,
        responses={201: InappAdminMessageOutput, **errors(400, 401, 403, 404, 413, 415, 429, 500)},
    )
    def post(self, request, ticket_id: str):
        ticket = self.ticket(ticket_id)
        data = self.validated(InappAdminReplyInput)
        message, created = services.add_message(
            ticket=ticket,
            body=data["body"],
            kind=Message.Kind.NOTE if data["is_internal"] else Message.Kind.REPLY,
            actor=request.auth.actor,
            idempotency_key=idempotency_key(request),
        )
        return Response(
            message_data(message, for_admin=True),
            status=status.HTTP_201_CREATED,
            headers=replay_headers(created),
        )
