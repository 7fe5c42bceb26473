"""The native REST API for integrators (API keys) and agents (personal tokens).

Views translate HTTP into service calls and the result back; scoping to the caller's
organizations happens in ``get_queryset`` so another organization's object is a 404.
"""

from django.db.models import prefetch_related_objects
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from helpdesk.headers import idempotency_key, replay_headers
from helpdesk.schema import IDEMPOTENCY_KEY_PARAMETER
from tickets import services
from tickets.actors import Actor
from tickets.exceptions import InvalidInput, PermissionDenied
from tickets.filters import CustomerFilter, TicketFilter
from tickets.models import Customer, Inbox, Message, Tag, Ticket
from tickets.selectors import (
    answer_from_created,
    find_agent,
    resolve_inbox,
    thread_prefetch,
    ticket_with_thread,
    tickets_for_principal,
)

from . import serializers as api
from .relations import TicketRelationsMixin

REPLAYED_HEADER = OpenApiParameter(
    "Idempotent-Replayed",
    str,
    OpenApiParameter.HEADER,
    response=[201],
    description='"true" when this is the stored answer to an earlier request with the same Idempotency-Key.',
)


def _organization_of(principal):
    """The one organization a create that names none belongs to."""
    if principal.is_integrator:
        return principal.api_key.organization
    memberships = list(principal.user.memberships.select_related("organization")[:2])
    if len(memberships) != 1:
        raise InvalidInput("organization", "Use an organization API key: you belong to several.")
    return memberships[0].organization


class ZipRenderer(renderers.BaseRenderer):
    """Lets a client ask for ``Accept: application/zip``; the zip itself is a FileResponse,
    and errors are still JSON (``CustomerViewSet.finalize_response``)."""

    media_type = "application/zip"
    format = "zip"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return renderers.JSONRenderer().render(data, "application/json", renderer_context)


def _created_response(data, created: bool) -> Response:
    return Response(data, status=status.HTTP_201_CREATED, headers=replay_headers(created))


@extend_schema_view(
    list=extend_schema(summary="List tickets", tags=["tickets"]),
    retrieve=extend_schema(summary="Get a ticket with its messages", tags=["tickets"]),
)
class TicketViewSet(
    TicketRelationsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_class = TicketFilter
    error_responses = {
        "create": [404, 422],
        "partial_update": [409],
        "messages": [409, 422],
        **TicketRelationsMixin.relations_error_responses,
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        tickets = tickets_for_principal(self.request.auth).for_list()
        if self.action == "retrieve":
            tickets = ticket_with_thread(tickets)
        return tickets

    def get_serializer_class(self):
        if self.action == "list":
            return api.TicketSerializer
        return api.TicketDetailSerializer

    def _detail(self, ticket) -> dict:
        ticket = ticket_with_thread(tickets_for_principal(self.request.auth).for_list()).get(pk=ticket.pk)
        return api.TicketDetailSerializer(ticket, context=self.get_serializer_context()).data

    @extend_schema(
        summary="Create a ticket on behalf of a customer",
        tags=["tickets"],
        request=api.TicketCreateSerializer,
        responses={201: api.TicketDetailSerializer},
        examples=[
            OpenApiExample(
                "A customer's question",
                request_only=True,
                value={
                    "customer": {
                        "email": "jane@example.com",
                        "external_id": "user-4711",
                        "name": "Jane Doe",
                        "metadata": {"plan": "pro", "tokens": 120},
                    },
                    "subject": "Refund for a double charge",
                    "message": "I was charged **twice** on 3 March.",
                    "priority": "high",
                    "tags": ["billing"],
                    "metadata": {"source": "checkout"},
                    "custom_fields": {"order_id": "A-1042"},
                },
            )
        ],
        parameters=[IDEMPOTENCY_KEY_PARAMETER, REPLAYED_HEADER],
    )
    def create(self, request):
        principal = request.auth
        payload = api.TicketCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        inbox = resolve_inbox(principal, public_id=data.get("inbox", ""))
        customer = data["customer"]
        ticket, created = services.create_ticket(
            inbox=inbox,
            customer=services.CustomerData(
                email=customer.get("email", ""),
                external_id=customer.get("external_id", ""),
                name=customer.get("name", ""),
                metadata=customer.get("metadata") or {},
            ),
            subject=data["subject"],
            message=data["message"],
            priority=data["priority"],
            category=data.get("category", ""),
            type=data.get("type", ""),
            tags=data.get("tags", []),
            metadata=data.get("metadata") or {},
            custom_fields=data.get("custom_fields") or {},
            reply_address=data.get("reply_address", ""),
            channel="agent" if principal.is_agent else "api",
            actor=principal.actor,
            idempotency_key=idempotency_key(request),
        )
        if created:
            answer_from_created(ticket)
        else:
            # The earlier ticket of a replayed Idempotency-Key: read its tags and thread.
            prefetch_related_objects([ticket], "tags", thread_prefetch())
        data = api.TicketDetailSerializer(ticket, context=self.get_serializer_context()).data
        return _created_response(data, created)

    @extend_schema(
        summary="Update a ticket: status, priority, assignee, tags, fields",
        tags=["tickets"],
        request=api.TicketUpdateSerializer,
        responses={200: api.TicketDetailSerializer},
    )
    def partial_update(self, request, id=None):
        ticket = self.get_object()
        payload = api.TicketUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        changes = dict(payload.validated_data)
        if "assignee" in changes:
            changes["assignee"] = find_agent(
                organization_id=ticket.organization_id, reference=changes["assignee"]
            )
        if "inbox" in changes:
            changes["inbox"] = self._inbox_to_move_to(ticket, changes["inbox"])
        ticket = services.update_ticket(ticket=ticket, actor=request.auth.actor, **changes)
        return Response(self._detail(ticket))

    def _inbox_to_move_to(self, ticket, public_id: str) -> Inbox:
        """An inbox of the ticket's organization (else a 400 naming ``inbox``, whatever the
        id is elsewhere); a key restricted to one inbox may not move a ticket out of it."""
        inbox = (
            Inbox.objects.select_related("organization")
            .filter(organization_id=ticket.organization_id, public_id=public_id)
            .first()
        )
        if inbox is None:
            raise InvalidInput("inbox", "Not an inbox of this organization.")
        restricted_inbox_id = self.request.auth.restricted_inbox_id
        if restricted_inbox_id is not None and inbox.pk != restricted_inbox_id:
            raise PermissionDenied("This API key is restricted to another inbox.")
        return inbox

    @extend_schema(
        methods=["GET"],
        summary="List a ticket's messages",
        tags=["messages"],
        responses={200: api.MessageListSerializer},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a public reply or an internal note",
        tags=["messages"],
        request=api.MessageCreateSerializer,
        responses={201: api.MessageSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER, REPLAYED_HEADER],
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def messages(self, request, id=None):
        ticket = self.get_object()
        if request.method == "GET":
            messages = (
                Message.objects.filter(ticket=ticket)
                .select_related("author_user", "author_customer")
                .prefetch_related("attachments")
            )
            return Response({"data": api.MessageSerializer(messages, many=True).data})
        payload = api.MessageCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        actor = request.auth.actor
        if data["author_type"] == "customer":
            # Written as the customer, but the key stays the caller's: its Idempotency-Keys
            # must never meet the customer's own.
            actor = Actor.for_customer(ticket.customer, credential=actor.credential)
        message, created = services.add_message(
            ticket=ticket,
            body=data["body"],
            kind=data["kind"],
            actor=actor,
            channel="agent" if request.auth.is_agent else "api",
            idempotency_key=idempotency_key(request),
        )
        message = (
            Message.objects.select_related("author_user", "author_customer")
            .prefetch_related("attachments")
            .get(pk=message.pk)
        )
        return _created_response(api.MessageSerializer(message).data, created)

    @extend_schema(
        summary="A ticket's history of changes",
        tags=["tickets"],
        responses={200: api.EventListSerializer},
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def events(self, request, id=None):
        ticket = self.get_object()
        return Response({"data": api.EventSerializer(ticket.events.all(), many=True).data})

    @extend_schema(
        summary="Rotate the private link",
        tags=["tickets"],
        request=None,
        responses={200: api.TicketDetailSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-private-link", filterset_class=None)
    def rotate_private_link(self, request, id=None):
        ticket = services.rotate_access_key(ticket=self.get_object(), actor=request.auth.actor)
        return Response(self._detail(ticket))


@extend_schema_view(
    list=extend_schema(summary="List customers", tags=["customers"]),
    retrieve=extend_schema(summary="Get a customer", tags=["customers"]),
)
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = api.CustomerSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_class = CustomerFilter
    # An erased customer takes no new details.
    error_responses = {"partial_update": [409]}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Customer.objects.none()
        return Customer.objects.filter(organization_id__in=self.request.auth.organization_ids).order_by(
            "-created_at", "-id"
        )

    @extend_schema(
        summary="Create a customer, or update the one with this external_id or email",
        tags=["customers"],
        request=api.CustomerUpsertSerializer,
        responses={200: api.CustomerSerializer, 201: api.CustomerSerializer},
    )
    def create(self, request):
        payload = api.CustomerUpsertSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            customer, created = services.upsert_customer(
                organization=_organization_of(request.auth),
                data=services.CustomerData(
                    email=data.get("email", ""),
                    external_id=data.get("external_id", ""),
                    name=data.get("name", ""),
                    metadata=data.get("metadata") or {},
                ),
                actor=request.auth.actor,
            )
        except InvalidInput as error:
            # The service names fields as a ticket's nested customer; here they are top level.
            raise InvalidInput(error.field.removeprefix("customer.") or "email", error.message) from None
        return Response(
            api.CustomerSerializer(customer).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def finalize_response(self, request, response, *args, **kwargs):
        # An error to a client that asked for a zip is still the one JSON error shape.
        if isinstance(response, Response) and isinstance(
            getattr(request, "accepted_renderer", None), ZipRenderer
        ):
            request.accepted_renderer = renderers.JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

    def _customer_for_data_rights(self) -> Customer:
        if self.request.auth.restricted_inbox_id is not None:
            raise PermissionDenied(
                "Exporting or erasing a customer needs an API key that is not restricted to one inbox."
            )
        return self.get_object()

    @extend_schema(
        summary="Export everything about a customer (a zip)",
        description="A zip with `customer.json` (the customer, their tickets with messages, notes, "
        "attachments' details and history, what they wrote on other tickets, the mail sent to "
        "them, their tokens) and each attachment file under `attachments/`. Owners and admins "
        "(personal token) and the organization's API keys; recorded in the audit log.",
        tags=["customers"],
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The zip file.")
        },
    )
    @action(
        detail=True,
        methods=["get"],
        filterset_class=None,
        pagination_class=None,
        renderer_classes=[renderers.JSONRenderer, ZipRenderer],
    )
    def export(self, request, id=None):
        customer = self._customer_for_data_rights()
        archive = services.export_customer(customer=customer, actor=request.auth.actor)
        return FileResponse(
            archive,
            as_attachment=True,
            filename=services.export_filename(customer),
            content_type="application/zip",
        )

    @extend_schema(
        summary="Erase a customer's personal data",
        description="Clears the customer's name, email, external id and metadata, erases the "
        "contents of their tickets (subjects, message bodies, attachments) and what they wrote "
        "elsewhere, and ends their private links and tokens. The tickets stay, so counts and "
        "reports hold. Erasing again is harmless. Owners and admins (personal token) and the "
        "organization's API keys; recorded in the audit log.",
        tags=["customers"],
        request=None,
        responses={200: api.CustomerSerializer},
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def erase(self, request, id=None):
        customer = self._customer_for_data_rights()
        customer = services.erase_customer(customer=customer, actor=request.auth.actor)
        return Response(api.CustomerSerializer(customer).data)

    @extend_schema(
        summary="Update a customer",
        tags=["customers"],
        request=api.CustomerUpdateSerializer,
        responses={200: api.CustomerSerializer},
    )
    def partial_update(self, request, id=None):
        customer = self.get_object()
        payload = api.CustomerUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        customer = services.update_customer(
            customer=customer, actor=request.auth.actor, **payload.validated_data
        )
        return Response(api.CustomerSerializer(customer).data)


@extend_schema_view(
    list=extend_schema(summary="List tags", tags=["tags"]),
    retrieve=extend_schema(summary="Get a tag", tags=["tags"]),
    destroy=extend_schema(summary="Delete a tag", tags=["tags"]),
)
class TagViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = api.TagSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Tag.objects.none()
        return Tag.objects.filter(organization_id__in=self.request.auth.organization_ids)

    @extend_schema(
        summary="Create a tag (or get the one with this name)",
        tags=["tags"],
        request=api.TagInputSerializer,
        responses={200: api.TagSerializer, 201: api.TagSerializer},
    )
    def create(self, request):
        payload = api.TagInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        organization = _organization_of(request.auth)
        tag, created = services.get_or_create_tag(
            organization=organization, name=payload.validated_data["name"], actor=request.auth.actor
        )
        return Response(
            api.TagSerializer(tag).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(
        summary="Rename a tag",
        tags=["tags"],
        request=api.TagInputSerializer,
        responses={200: api.TagSerializer},
    )
    def partial_update(self, request, pk=None):
        tag = self.get_object()
        payload = api.TagInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        tag = services.rename_tag(tag=tag, name=payload.validated_data["name"], actor=request.auth.actor)
        return Response(api.TagSerializer(tag).data)

    def perform_destroy(self, instance):
        services.delete_tag(tag=instance, actor=self.request.auth.actor)


@extend_schema_view(
    list=extend_schema(summary="List inboxes", tags=["inboxes"]),
    retrieve=extend_schema(summary="Get an inbox", tags=["inboxes"]),
)
class InboxViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = api.InboxSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Inbox.objects.none()
        principal = self.request.auth
        inboxes = Inbox.objects.filter(organization_id__in=principal.organization_ids).select_related(
            "business_hours"
        )
        if principal.restricted_inbox_id is not None:
            inboxes = inboxes.filter(pk=principal.restricted_inbox_id)
        return inboxes.order_by("created_at", "id")
