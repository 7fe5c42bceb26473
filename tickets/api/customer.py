"""The customer-facing API, and the integrator endpoints that mint customer tokens.

- ``/api/v1/customers/{id}/tokens``: an integrator (organization API key) mints, lists and
  revokes tokens for one of its customers.
- ``/api/v1/me/tickets...``: a customer (customer token or JWT, see
  ``accounts/authentication.py``) lists, reads, opens, answers, closes and reopens their
  own tickets. Querysets are scoped to the customer, so another customer's ticket is a
  404; internal notes are never read from the database here.
"""

import django_filters
from django.conf import settings
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import services as account_services
from accounts.authentication import CustomerJWTAuthentication, CustomerTokenAuthentication
from accounts.models import CustomerToken
from accounts.permissions import IsCustomer, IsIntegrator
from helpdesk.fields import StrictCharField, StrictMessageField
from helpdesk.headers import idempotency_key, replay_headers
from helpdesk.schema import IDEMPOTENCY_KEY_PARAMETER, bearer, security_scheme
from tickets import limits, services
from tickets.exceptions import InvalidTransition, PermissionDenied
from tickets.models import Customer, Message, Ticket
from tickets.selectors import resolve_inbox

from .serializers import AttachmentSerializer, MessageSerializer, TicketSerializer
from .views import _created_response

CustomerTokenScheme = security_scheme(
    "accounts.authentication.CustomerTokenAuthentication",
    "customerToken",
    bearer("A customer token (`hdc_...`) minted with POST /api/v1/customers/{id}/tokens."),
)

CustomerJWTScheme = security_scheme(
    "accounts.authentication.CustomerJWTAuthentication",
    "customerJWT",
    bearer(
        "A JWT signed by the organization's own sign-in: HS256 with the organization's JWT "
        "secret, or RS256 with its configured public key; iss = organization id, "
        "sub = customer external id, exp required.",
        bearer_format="JWT",
    ),
)


# Customer tokens (integrator side) ---------------------------------------------------------


class CustomerTokenSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="lookup", read_only=True, help_text="Use it to revoke the token.")
    prefix = serializers.CharField(source="display_prefix", read_only=True)
    is_active = serializers.BooleanField(source="is_usable", read_only=True)

    class Meta:
        model = CustomerToken
        fields = ["id", "prefix", "is_active", "expires_at", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class MintedCustomerTokenSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="lookup", read_only=True)
    token = serializers.SerializerMethodField(help_text="The token itself. Shown once; store it now.")

    class Meta:
        model = CustomerToken
        fields = ["id", "token", "expires_at", "created_at"]
        read_only_fields = fields

    def get_token(self, token) -> str:
        return self.context["plaintext"]


class CustomerTokenCreateSerializer(serializers.Serializer):
    expires_in = serializers.IntegerField(
        required=False,
        min_value=60,
        max_value=int(account_services.CUSTOMER_TOKEN_MAX_LIFETIME.total_seconds()),
        help_text="Lifetime in seconds (default 30 days, at most 365 days).",
    )
    expires_at = serializers.DateTimeField(
        required=False, help_text="Expiry as an ISO 8601 date-time; instead of expires_in."
    )

    def validate(self, attrs):
        if "expires_in" in attrs and "expires_at" in attrs:
            raise serializers.ValidationError({"expires_in": "Give expires_in or expires_at, not both."})
        return attrs


CUSTOMER_ID = OpenApiParameter("customer_id", str, OpenApiParameter.PATH, description="Customer id.")
TOKEN_ID = OpenApiParameter("token_id", str, OpenApiParameter.PATH, description="Token id.")


@extend_schema_view(
    list=extend_schema(
        summary="List a customer's tokens (never their secrets)",
        tags=["customers"],
        parameters=[CUSTOMER_ID],
    ),
    destroy=extend_schema(
        summary="Revoke a customer token",
        tags=["customers"],
        parameters=[CUSTOMER_ID, TOKEN_ID],
        responses={204: None},
    ),
)
class CustomerTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Tokens an integrator mints so its customer can call ``/api/v1/me/...`` directly."""

    permission_classes = [IsIntegrator]
    serializer_class = CustomerTokenSerializer
    lookup_field = "lookup"
    lookup_url_kwarg = "token_id"
    filterset_class = None
    # No token for an erased customer.
    error_responses = {"create": [409]}

    def customer(self) -> Customer:
        principal = self.request.auth
        if principal.restricted_inbox_id is not None:
            # A customer token sees the customer's tickets in every inbox: a key limited
            # to one inbox must not hand out more than it can see itself.
            raise PermissionDenied("Customer tokens need an API key that is not restricted to one inbox.")
        if not hasattr(self, "_customer"):
            self._customer = get_object_or_404(
                Customer,
                organization_id__in=principal.organization_ids,
                public_id=self.kwargs["customer_id"],
            )
        return self._customer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the view
            return CustomerToken.objects.none()
        return CustomerToken.objects.filter(customer=self.customer()).order_by("-created_at", "-id")

    @extend_schema(
        summary="Mint a token for a customer",
        tags=["customers"],
        parameters=[CUSTOMER_ID],
        request=CustomerTokenCreateSerializer,
        responses={201: MintedCustomerTokenSerializer},
    )
    def create(self, request, customer_id=None):
        customer = self.customer()
        payload = CustomerTokenCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        expires_at = account_services.customer_token_expiry(
            expires_in=payload.validated_data.get("expires_in"),
            expires_at=payload.validated_data.get("expires_at"),
        )
        token, plaintext = account_services.mint_customer_token(customer=customer, expires_at=expires_at)
        data = MintedCustomerTokenSerializer(token, context={"plaintext": plaintext}).data
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        account_services.revoke_customer_token(token=instance)


# The customer's own tickets ------------------------------------------------------------


class MyAttachmentSerializer(AttachmentSerializer):
    url = serializers.SerializerMethodField(help_text="Download through the ticket's private link.")

    class Meta(AttachmentSerializer.Meta):
        fields = ["id", "filename", "content_type", "size", "url", "created_at"]
        read_only_fields = fields

    def get_url(self, attachment) -> str:
        ticket = self.context["ticket"]
        path = reverse("portal:attachment", args=[ticket.public_id, ticket.access_key, attachment.public_id])
        return f"{settings.SITE_URL}{path}"


class MyMessageSerializer(MessageSerializer):
    """A public message; internal notes never reach this serializer."""

    attachments = MyAttachmentSerializer(many=True, read_only=True)

    class Meta(MessageSerializer.Meta):
        fields = ["id", "author", "channel", "body", "body_html", "attachments", "created_at"]
        read_only_fields = fields


class MyMessageListSerializer(serializers.Serializer):
    data = MyMessageSerializer(many=True)


class MyTicketSerializer(TicketSerializer):
    """A ticket as its customer sees it: no assignee details, tags or integrator metadata."""

    class Meta(TicketSerializer.Meta):
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
            "private_url",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
        ]
        read_only_fields = fields


class MyTicketDetailSerializer(MyTicketSerializer):
    messages = serializers.SerializerMethodField()

    class Meta(MyTicketSerializer.Meta):
        fields = [*MyTicketSerializer.Meta.fields, "messages"]
        read_only_fields = fields

    @extend_schema_field(MyMessageSerializer(many=True))
    def get_messages(self, ticket):
        # The prefetch below holds public replies only; the filter here is a second lock
        # on the same door.
        public = [message for message in ticket.messages.all() if message.is_public]
        return MyMessageSerializer(public, many=True, context={**self.context, "ticket": ticket}).data


class MyTicketCreateSerializer(serializers.Serializer):
    inbox = StrictCharField(
        required=False, max_length=26, help_text="Inbox public id; the organization's default when left out."
    )
    subject = StrictCharField(min_length=limits.SUBJECT_MIN_LENGTH, max_length=limits.SUBJECT_MAX_LENGTH)
    message = StrictMessageField()
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, default=Ticket.Priority.NORMAL)
    category = StrictCharField(required=False, allow_blank=True, max_length=limits.CATEGORY_MAX_LENGTH)


class MyReplySerializer(serializers.Serializer):
    body = StrictMessageField()


class MyTicketFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Ticket.Status.choices)
    sort = django_filters.OrderingFilter(
        fields=(("created_at", "created_at"), ("updated_at", "updated_at")),
        help_text="created_at or updated_at; prefix - for descending (default -created_at).",
    )

    class Meta:
        model = Ticket
        fields = []


def public_thread():
    return Prefetch(
        "messages",
        queryset=Message.objects.filter(kind=Message.Kind.REPLY)
        .select_related("author_user", "author_customer")
        .prefetch_related("attachments"),
    )


@extend_schema_view(
    list=extend_schema(summary="List my tickets", tags=["customer"]),
    retrieve=extend_schema(summary="Get my ticket with its public messages", tags=["customer"]),
)
class MyTicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in customer's own tickets (customer token or customer JWT)."""

    authentication_classes = [CustomerTokenAuthentication, CustomerJWTAuthentication]
    permission_classes = [IsCustomer]
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    filterset_class = MyTicketFilter
    # Beyond the common errors: an unknown inbox on create, a closed ticket on reply or a
    # refused transition, a reused Idempotency-Key.
    error_responses = {"create": [404, 422], "messages": [409, 422], "close": [409], "reopen": [409]}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the view
            return Ticket.objects.none()
        customer = self.request.auth.customer
        tickets = (
            Ticket.objects.filter(organization_id=customer.organization_id, customer=customer)
            .select_related("inbox")
            .order_by("-created_at", "-id")
        )
        if self.action == "retrieve":
            tickets = tickets.prefetch_related(public_thread())
        return tickets

    def get_serializer_class(self):
        return MyTicketSerializer if self.action == "list" else MyTicketDetailSerializer

    def _detail(self, ticket, status_code=status.HTTP_200_OK) -> Response:
        ticket = Ticket.objects.select_related("inbox").prefetch_related(public_thread()).get(pk=ticket.pk)
        return Response(MyTicketDetailSerializer(ticket).data, status=status_code)

    @extend_schema(
        summary="Open a ticket for myself",
        tags=["customer"],
        request=MyTicketCreateSerializer,
        responses={201: MyTicketDetailSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    def create(self, request):
        principal = request.auth
        payload = MyTicketCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        inbox = resolve_inbox(principal, public_id=data.get("inbox", ""))
        ticket, created = services.create_ticket(
            inbox=inbox,
            customer=principal.customer,
            subject=data["subject"],
            message=data["message"],
            priority=data["priority"],
            category=data.get("category", ""),
            channel=Ticket.Channel.WEB,
            actor=principal.actor,
            idempotency_key=idempotency_key(request),
        )
        response = self._detail(ticket, status.HTTP_201_CREATED)
        for name, value in replay_headers(created).items():
            response[name] = value
        return response

    @extend_schema(
        methods=["GET"],
        summary="The public messages of my ticket",
        tags=["customer"],
        responses={200: MyMessageListSerializer},
    )
    @extend_schema(
        methods=["POST"],
        summary="Reply on my ticket",
        tags=["customer"],
        request=MyReplySerializer,
        responses={201: MyMessageSerializer},
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def messages(self, request, id=None):
        ticket = self.get_object()
        if request.method == "GET":
            public = (
                Message.objects.filter(ticket=ticket, kind=Message.Kind.REPLY)
                .select_related("author_user", "author_customer")
                .prefetch_related("attachments")
            )
            return Response({"data": MyMessageSerializer(public, many=True, context={"ticket": ticket}).data})
        payload = MyReplySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        message, created = services.add_message(
            ticket=ticket,
            body=payload.validated_data["body"],
            actor=request.auth.actor,
            channel=Ticket.Channel.WEB,
            idempotency_key=idempotency_key(request),
        )
        message = (
            Message.objects.select_related("author_user", "author_customer")
            .prefetch_related("attachments")
            .get(pk=message.pk)
        )
        return _created_response(MyMessageSerializer(message, context={"ticket": ticket}).data, created)

    @extend_schema(
        summary="Close my ticket", tags=["customer"], request=None, responses={200: MyTicketDetailSerializer}
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def close(self, request, id=None):
        ticket = services.change_status(
            ticket=self.get_object(), status=Ticket.Status.CLOSED, actor=request.auth.actor
        )
        return self._detail(ticket)

    @extend_schema(
        summary="Reopen my resolved ticket",
        tags=["customer"],
        request=None,
        responses={200: MyTicketDetailSerializer},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def reopen(self, request, id=None):
        ticket = self.get_object()
        if ticket.status != Ticket.Status.RESOLVED:
            raise InvalidTransition(
                f"Only a resolved ticket can be reopened; this one is {ticket.get_status_display().lower()}."
            )
        ticket = services.change_status(ticket=ticket, status=Ticket.Status.OPEN, actor=request.auth.actor)
        return self._detail(ticket)
