"""/api/v1/webhooks (endpoints, their delivery log, tests, redelivery) and /api/v1/events.

Views translate HTTP into calls of ``webhooks/services`` and the result back, in the
native API's shapes and error body. Endpoints are an organization's settings: an API key
of the organization (not one restricted to an inbox: an endpoint hears every inbox) or
an owner or admin's personal token manages them; another organization's endpoint is a 404.
"""

import django_filters
from django.db.models import Prefetch
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.models import Membership
from tickets.exceptions import InvalidInput, PermissionDenied

from .. import services
from ..models import Event, EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from ..services.feed import events_for_principal
from . import serializers as api
from .pagination import EventCursorPagination


def managed_organization_ids(principal) -> set[int]:
    """The organizations whose webhooks the caller may manage."""
    if principal.is_integrator:
        return set(principal.organization_ids)
    return set(
        Membership.objects.filter(
            user=principal.user, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]
        ).values_list("organization_id", flat=True)
    )


class CanManageWebhooks(permissions.BasePermission):
    message = "An API key restricted to one inbox cannot manage webhooks: they hear every inbox."

    def has_permission(self, request, view):
        principal = request.auth
        return principal is not None and principal.restricted_inbox_id is None


@extend_schema_view(
    list=extend_schema(summary="List webhook endpoints", tags=["webhooks"]),
    retrieve=extend_schema(summary="Get a webhook endpoint", tags=["webhooks"]),
    destroy=extend_schema(summary="Delete a webhook endpoint and its delivery log", tags=["webhooks"]),
)
class WebhookViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = api.WebhookSerializer
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    error_responses = {
        "create": [400, 403],
        "partial_update": [400, 403],
        "destroy": [403],
        "rotate_secret": [403],
        "test": [400, 403],
        "redeliver": [400, 403],
    }

    def get_permissions(self):
        return [*super().get_permissions(), CanManageWebhooks()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the view
            return WebhookEndpoint.objects.none()
        return WebhookEndpoint.objects.filter(
            organization_id__in=managed_organization_ids(self.request.auth)
        ).select_related("organization")

    def _organization(self):
        principal = self.request.auth
        if principal.is_integrator:
            return principal.api_key.organization
        managed = list(
            Membership.objects.filter(
                user=principal.user, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]
            ).select_related("organization")[:2]
        )
        if not managed:
            raise PermissionDenied("Only owners and admins can manage webhooks.")
        if len(managed) > 1:
            raise InvalidInput(
                "organization", "Use an organization API key: you manage several organizations."
            )
        return managed[0].organization

    @extend_schema(
        summary="Create a webhook endpoint (the answer shows its signing secret, once)",
        tags=["webhooks"],
        request=api.WebhookInputSerializer,
        responses={201: api.WebhookWithSecretSerializer},
        examples=[
            OpenApiExample(
                "Every change of a ticket",
                request_only=True,
                value={
                    "url": "https://example.com/helpdesk/webhooks",
                    "events": ["ticket.created", "ticket.status_changed", "message.created"],
                    "description": "Our backend",
                },
            )
        ],
    )
    def create(self, request):
        payload = api.WebhookInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        endpoint, _secret = services.create_endpoint(
            organization=self._organization(), actor=request.auth.actor, **payload.validated_data
        )
        return Response(api.WebhookWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a webhook endpoint (setting active to true again resumes a disabled one)",
        tags=["webhooks"],
        request=api.WebhookUpdateSerializer,
        responses={200: api.WebhookSerializer},
    )
    def partial_update(self, request, id=None):
        endpoint = self.get_object()
        payload = api.WebhookUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        endpoint = services.update_endpoint(
            endpoint=endpoint, actor=request.auth.actor, **payload.validated_data
        )
        return Response(api.WebhookSerializer(endpoint).data)

    def perform_destroy(self, instance):
        services.delete_endpoint(endpoint=instance, actor=self.request.auth.actor)

    @extend_schema(
        summary="Rotate the signing secret (the previous one keeps signing for 24 hours)",
        tags=["webhooks"],
        request=None,
        responses={200: api.WebhookWithSecretSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, id=None):
        endpoint, _secret = services.rotate_secret(endpoint=self.get_object(), actor=request.auth.actor)
        return Response(api.WebhookWithSecretSerializer(endpoint).data)

    @extend_schema(
        summary="Send a ping event to the endpoint",
        tags=["webhooks"],
        request=None,
        responses={202: api.DeliverySerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, id=None):
        delivery = services.send_test(endpoint=self.get_object(), actor=request.auth.actor)
        return Response(api.DeliverySerializer(_with_log(delivery)).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="The endpoint's deliveries, newest first, with every attempt",
        tags=["webhooks"],
        responses={200: api.DeliverySerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, id=None):
        endpoint = self.get_object()
        deliveries = deliveries_with_log(WebhookDelivery.objects.filter(endpoint=endpoint))
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(api.DeliverySerializer(page, many=True).data)

    @extend_schema(
        summary="Send a delivery again (with a fresh round of retries)",
        tags=["webhooks"],
        parameters=[
            OpenApiParameter("delivery_id", str, OpenApiParameter.PATH, description="The delivery's id.")
        ],
        request=None,
        responses={202: api.DeliverySerializer},
    )
    @action(detail=True, methods=["post"], url_path=r"deliveries/(?P<delivery_id>[^/.]+)/redeliver")
    def redeliver(self, request, id=None, delivery_id=None):
        endpoint = self.get_object()
        delivery = WebhookDelivery.objects.filter(endpoint=endpoint, public_id=delivery_id).first()
        if delivery is None:
            raise Http404("No such delivery.")
        delivery.endpoint = endpoint
        delivery = services.redeliver(delivery=delivery, actor=request.auth.actor)
        return Response(api.DeliverySerializer(_with_log(delivery)).data, status=status.HTTP_202_ACCEPTED)


def deliveries_with_log(deliveries):
    """A page of deliveries in two more queries: their events and all their attempts."""
    return deliveries.select_related("event").prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
    )


def _with_log(delivery: WebhookDelivery) -> WebhookDelivery:
    return deliveries_with_log(WebhookDelivery.objects.filter(pk=delivery.pk)).get()


class EventFilter(django_filters.FilterSet):
    types = django_filters.CharFilter(
        method="filter_types",
        help_text=f"Comma-separated event types to read, e.g. ticket.created,message.created "
        f"({', '.join(EventType.values)}).",
    )

    class Meta:
        model = Event
        fields = []

    def filter_types(self, queryset, name, value):
        types = [item.strip() for item in value.split(",") if item.strip()]
        unknown = [item for item in types if item not in EventType.values]
        if unknown:
            raise ValidationError(
                {"types": f'Unknown event type "{unknown[0]}". Known: {", ".join(EventType.values)}.'}
            )
        return queryset.filter(type__in=types) if types else queryset


@extend_schema_view(
    list=extend_schema(
        summary="The event feed: events after a cursor, oldest first",
        description="For integrators who cannot receive webhooks: the same events, in the same "
        "shape, kept for EVENT_RETENTION_DAYS. Poll with the last answer's next_cursor as after=.",
        tags=["events"],
        responses={200: api.FeedEventSerializer(many=True)},
    )
)
class EventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = api.FeedEventSerializer
    pagination_class = EventCursorPagination
    filterset_class = EventFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the view
            return Event.objects.none()
        return events_for_principal(self.request.auth)
