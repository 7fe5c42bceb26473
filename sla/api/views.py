"""/api/v1/business-hours and /api/v1/sla-policies.

Views translate HTTP into calls of ``sla/services.py`` and back, in the native API's
shapes and error body. Any agent of the organization (or its API key) reads them;
owners and admins (or an organization API key not restricted to an inbox) change them.
Another organization's calendar or policy is a 404.
"""

import django_filters
from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.response import Response

from tickets.exceptions import InvalidInput
from tickets.models import Inbox

from .. import services
from ..models import BusinessHours, Satisfaction, SlaPolicy
from . import serializers as api


class NotRestrictedToAnInbox(permissions.BasePermission):
    message = "An API key restricted to one inbox cannot change organization settings."

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return True
        principal = request.auth
        return principal is not None and principal.restricted_inbox_id is None


def organization_of(principal):
    """The one organization a create belongs to."""
    if principal.is_integrator:
        return principal.api_key.organization
    memberships = list(principal.user.memberships.select_related("organization")[:2])
    if len(memberships) != 1:
        raise InvalidInput("organization", "Use an organization API key: you belong to several.")
    return memberships[0].organization


class SettingsViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    error_responses = {"create": [400, 403], "partial_update": [400, 403], "destroy": [403]}

    def get_permissions(self):
        return [*super().get_permissions(), NotRestrictedToAnInbox()]


BUSINESS_HOURS_EXAMPLE = {
    "name": "Office",
    "time_zone": "Europe/Berlin",
    "weekly": [{"day": day, "start": "09:00", "end": "17:00"} for day in ("mon", "tue", "wed", "thu", "fri")],
    "holidays": ["2026-12-25"],
}


@extend_schema_view(
    list=extend_schema(summary="List business hours", tags=["service levels"]),
    retrieve=extend_schema(summary="Get business hours", tags=["service levels"]),
    destroy=extend_schema(
        summary="Delete business hours (its inboxes work 24/7, its policies use the inbox's)",
        tags=["service levels"],
    ),
)
class BusinessHoursViewSet(SettingsViewSet):
    serializer_class = api.BusinessHoursSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return BusinessHours.objects.none()
        return (
            BusinessHours.objects.filter(organization_id__in=self.request.auth.organization_ids)
            .select_related("organization")
            .prefetch_related(
                Prefetch(
                    "inboxes", queryset=Inbox.objects.order_by("id").only("public_id", "business_hours_id")
                )
            )
            .order_by("name", "id")
        )

    def _answer(self, hours, code=status.HTTP_200_OK):
        hours = self.get_queryset().get(pk=hours.pk)
        return Response(api.BusinessHoursSerializer(hours).data, status=code)

    @extend_schema(
        summary="Create business hours",
        tags=["service levels"],
        request=api.BusinessHoursInputSerializer,
        responses={201: api.BusinessHoursSerializer},
        examples=[OpenApiExample("Office hours in Berlin", request_only=True, value=BUSINESS_HOURS_EXAMPLE)],
    )
    def create(self, request):
        payload = api.BusinessHoursInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        inboxes = data.pop("inboxes", None)
        data["weekly"] = [dict(entry) for entry in data["weekly"]]
        with transaction.atomic():
            hours = services.create_business_hours(
                organization=organization_of(request.auth), actor=request.auth.actor, **data
            )
            if inboxes is not None:
                services.set_business_hours_inboxes(
                    business_hours=hours, inbox_ids=inboxes, actor=request.auth.actor
                )
        return self._answer(hours, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change business hours (inboxes, when given, replaces the set)",
        tags=["service levels"],
        request=api.BusinessHoursUpdateSerializer,
        responses={200: api.BusinessHoursSerializer},
    )
    def partial_update(self, request, id=None):
        hours = self.get_object()
        payload = api.BusinessHoursUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        inboxes = data.pop("inboxes", None)
        if "weekly" in data:
            data["weekly"] = [dict(entry) for entry in data["weekly"]]
        with transaction.atomic():
            hours = services.update_business_hours(business_hours=hours, actor=request.auth.actor, **data)
            if inboxes is not None:
                services.set_business_hours_inboxes(
                    business_hours=hours, inbox_ids=inboxes, actor=request.auth.actor
                )
        return self._answer(hours)

    def perform_destroy(self, instance):
        services.delete_business_hours(business_hours=instance, actor=self.request.auth.actor)


POLICY_EXAMPLE = {
    "name": "Pro customers",
    "position": 1,
    "business_hours": None,
    "conditions": {"priority": ["high", "urgent"], "customer_metadata": {"plan": "pro"}},
    "targets": {"first_reply_minutes": 60, "next_reply_minutes": 240, "resolution_minutes": 1440},
    "escalation": {"warning_percent": 80, "raise_priority_to": "urgent"},
}


def _policy_fields(validated: dict) -> dict:
    data = dict(validated)
    for group in ("conditions", "targets", "escalation"):
        if group in data and data[group] is not None:
            data[group] = dict(data[group])
    return data


@extend_schema_view(
    list=extend_schema(
        summary="List SLA policies (in order: the first match applies)", tags=["service levels"]
    ),
    retrieve=extend_schema(summary="Get an SLA policy", tags=["service levels"]),
    destroy=extend_schema(
        summary="Delete an SLA policy (its tickets keep their due times)", tags=["service levels"]
    ),
)
class SlaPolicyViewSet(SettingsViewSet):
    serializer_class = api.SlaPolicySerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SlaPolicy.objects.none()
        return (
            SlaPolicy.objects.filter(organization_id__in=self.request.auth.organization_ids)
            .select_related("organization", "business_hours")
            .order_by("position", "id")
        )

    @extend_schema(
        summary="Create an SLA policy",
        tags=["service levels"],
        request=api.SlaPolicyInputSerializer,
        responses={201: api.SlaPolicySerializer},
        examples=[OpenApiExample("Pro customers", request_only=True, value=POLICY_EXAMPLE)],
    )
    def create(self, request):
        payload = api.SlaPolicyInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        policy = services.create_policy(
            organization=organization_of(request.auth),
            actor=request.auth.actor,
            **_policy_fields(payload.validated_data),
        )
        return Response(
            api.SlaPolicySerializer(self.get_queryset().get(pk=policy.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Change an SLA policy (targets not named keep their values)",
        tags=["service levels"],
        request=api.SlaPolicyUpdateSerializer,
        responses={200: api.SlaPolicySerializer},
    )
    def partial_update(self, request, id=None):
        policy = self.get_object()
        payload = api.SlaPolicyUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        policy = services.update_policy(
            policy=policy, actor=request.auth.actor, **_policy_fields(payload.validated_data)
        )
        return Response(api.SlaPolicySerializer(self.get_queryset().get(pk=policy.pk)).data)

    def perform_destroy(self, instance):
        services.delete_policy(policy=instance, actor=self.request.auth.actor)


class SatisfactionFilter(django_filters.FilterSet):
    rating = django_filters.ChoiceFilter(choices=Satisfaction.Rating.choices)
    inbox = django_filters.CharFilter(field_name="ticket__inbox__public_id", help_text="Inbox id.")
    assignee = django_filters.CharFilter(
        field_name="ticket__assignee__email", lookup_expr="iexact", help_text="The agent's email."
    )
    rated_after = django_filters.IsoDateTimeFilter(field_name="rated_at", lookup_expr="gte")
    rated_before = django_filters.IsoDateTimeFilter(field_name="rated_at", lookup_expr="lt")
    has_comment = django_filters.BooleanFilter(method="filter_has_comment")

    class Meta:
        model = Satisfaction
        fields = []

    def filter_has_comment(self, queryset, name, value):
        return queryset.exclude(comment="") if value else queryset.filter(comment="")


@extend_schema_view(
    list=extend_schema(summary="List customer satisfaction ratings, newest first", tags=["service levels"]),
)
class SatisfactionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = api.SatisfactionSerializer
    filterset_class = SatisfactionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Satisfaction.objects.none()
        principal = self.request.auth
        ratings = Satisfaction.objects.filter(
            organization_id__in=principal.organization_ids, rated_at__isnull=False
        ).exclude(rating="")
        if principal.restricted_inbox_id is not None:
            ratings = ratings.filter(ticket__inbox_id=principal.restricted_inbox_id)
        return ratings.select_related("ticket__inbox", "ticket__assignee").order_by("-rated_at", "-id")
