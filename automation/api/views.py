"""/api/v1/triggers and /api/v1/macros: views translate HTTP into automation services.

Triggers are an organization's settings: an API key not restricted to one inbox (a
trigger hears every inbox), or an owner or admin's personal token; another
organization's trigger is a 404. Macros are the agents': each agent sees the shared ones
and their own; an owner or admin (or the organization's key) manages the shared ones.
"""

from django.db.models import Q
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Membership
from tickets.exceptions import InvalidInput, NotFound, PermissionDenied
from tickets.models import Ticket

from .. import services
from ..models import Macro, Trigger
from . import serializers as api

EXAMPLE_TRIGGER = {
    "name": "Refunds are urgent",
    "active": True,
    "position": 1,
    "event": "ticket.created",
    "conditions": {"all": [{"field": "subject", "op": "contains", "value": "refund"}], "any": []},
    "actions": [{"type": "set_priority", "value": "urgent"}, {"type": "add_tags", "value": ["billing"]}],
}


def managed_organization_ids(principal) -> set[int]:
    if principal.is_integrator:
        return set(principal.organization_ids)
    return set(
        Membership.objects.filter(
            user=principal.user, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]
        ).values_list("organization_id", flat=True)
    )


def managed_organization(principal):
    """The one organization the caller's create belongs to."""
    if principal.is_integrator:
        return principal.api_key.organization
    managed = list(
        Membership.objects.filter(
            user=principal.user, role__in=[Membership.Role.OWNER, Membership.Role.ADMIN]
        ).select_related("organization")[:2]
    )
    if not managed:
        raise PermissionDenied("Only owners and admins can manage this organization's automation.")
    if len(managed) > 1:
        raise InvalidInput("organization", "Use an organization API key: you manage several organizations.")
    return managed[0].organization


class NotRestrictedToAnInbox(permissions.BasePermission):
    message = "An API key restricted to one inbox cannot manage automation: it hears every inbox."

    def has_permission(self, request, view):
        principal = request.auth
        return principal is not None and principal.restricted_inbox_id is None


def _refuse_restricted_key_for_macros(principal) -> None:
    # A shared macro is used in every inbox: a key that sees one inbox reads them but
    # does not write them, as with triggers and custom fields.
    if principal.restricted_inbox_id is not None:
        raise PermissionDenied(
            "An API key restricted to one inbox cannot change macros: every inbox uses them."
        )


@extend_schema_view(
    list=extend_schema(summary="List triggers, in the order they run", tags=["triggers"]),
    retrieve=extend_schema(summary="Get a trigger", tags=["triggers"]),
    destroy=extend_schema(summary="Delete a trigger", tags=["triggers"]),
)
class TriggerViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = api.TriggerSerializer
    pagination_class = None
    error_responses = {
        "list": [403],
        "retrieve": [403],
        "create": [400, 403],
        "partial_update": [400, 403],
        "destroy": [403],
        "preview": [400, 403],
    }

    def get_permissions(self):
        return [*super().get_permissions(), NotRestrictedToAnInbox()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Trigger.objects.none()
        return Trigger.objects.filter(
            organization_id__in=managed_organization_ids(self.request.auth)
        ).select_related("organization")

    @extend_schema(
        summary="Create a trigger",
        tags=["triggers"],
        request=api.TriggerInputSerializer,
        responses={201: api.TriggerSerializer},
        examples=[OpenApiExample("Refunds are urgent", request_only=True, value=EXAMPLE_TRIGGER)],
    )
    def create(self, request):
        payload = api.TriggerInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        trigger = services.create_trigger(
            organization=managed_organization(request.auth),
            actor=request.auth.actor,
            **payload.validated_data,
        )
        return Response(api.TriggerSerializer(trigger).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a trigger",
        tags=["triggers"],
        request=api.TriggerUpdateSerializer,
        responses={200: api.TriggerSerializer},
    )
    def partial_update(self, request, pk=None):
        trigger = self.get_object()
        payload = api.TriggerUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        trigger = services.update_trigger(trigger=trigger, actor=request.auth.actor, **payload.validated_data)
        return Response(api.TriggerSerializer(trigger).data)

    def perform_destroy(self, instance):
        services.delete_trigger(trigger=instance, actor=self.request.auth.actor)

    @extend_schema(
        summary="Which of the last 100 tickets these conditions match",
        tags=["triggers"],
        request=api.PreviewInputSerializer,
        responses={200: api.PreviewSerializer},
    )
    @action(detail=False, methods=["post"])
    def preview(self, request):
        payload = api.PreviewInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        organization = managed_organization(request.auth)
        matched = services.preview(organization=organization, conditions=payload.validated_data["conditions"])
        checked = min(
            Ticket.objects.filter(organization=organization)[: services.PREVIEW_TICKETS].count(), 100
        )
        return Response({"checked": checked, "data": api.PreviewTicketSerializer(matched, many=True).data})


@extend_schema_view(
    list=extend_schema(summary="List the shared macros and your own", tags=["macros"]),
    retrieve=extend_schema(summary="Get a macro", tags=["macros"]),
    destroy=extend_schema(summary="Delete a macro", tags=["macros"]),
)
class MacroViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = api.MacroSerializer
    pagination_class = None
    error_responses = {
        "create": [400, 403],
        "partial_update": [400, 403],
        "destroy": [403],
        "apply": [400, 403, 409],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Macro.objects.none()
        principal = self.request.auth
        macros = Macro.objects.filter(organization_id__in=principal.organization_ids).select_related(
            "organization", "owner"
        )
        if principal.is_integrator:
            return macros.filter(owner=None)
        return macros.filter(Q(owner=None) | Q(owner=principal.user))

    def _organization(self):
        principal = self.request.auth
        if principal.is_integrator:
            return principal.api_key.organization
        memberships = list(principal.user.memberships.select_related("organization")[:2])
        if len(memberships) != 1:
            raise InvalidInput("organization", "Use an organization API key: you belong to several.")
        return memberships[0].organization

    @extend_schema(
        summary="Create a macro (shared, or personal with personal: true)",
        tags=["macros"],
        request=api.MacroInputSerializer,
        responses={201: api.MacroSerializer},
        examples=[
            OpenApiExample(
                "Refund processed",
                request_only=True,
                value={
                    "name": "Refund processed",
                    "reply": "Hello {{ customer_name }}, your refund is on its way.",
                    "actions": [
                        {"type": "set_status", "value": "resolved"},
                        {"type": "add_tags", "value": ["refund"]},
                    ],
                },
            )
        ],
    )
    def create(self, request):
        _refuse_restricted_key_for_macros(request.auth)
        payload = api.MacroInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        macro = services.create_macro(
            organization=self._organization(), actor=request.auth.actor, **payload.validated_data
        )
        return Response(api.MacroSerializer(macro).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a macro",
        tags=["macros"],
        request=api.MacroUpdateSerializer,
        responses={200: api.MacroSerializer},
    )
    def partial_update(self, request, pk=None):
        _refuse_restricted_key_for_macros(request.auth)
        macro = self.get_object()
        payload = api.MacroUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        macro = services.update_macro(macro=macro, actor=request.auth.actor, **payload.validated_data)
        return Response(api.MacroSerializer(macro).data)

    def perform_destroy(self, instance):
        _refuse_restricted_key_for_macros(self.request.auth)
        services.delete_macro(macro=instance, actor=self.request.auth.actor)

    @extend_schema(
        summary="Apply a macro to a ticket (an agent's token): its reply and its actions",
        tags=["macros"],
        request=api.MacroApplySerializer,
        responses={200: api.MacroSerializer},
    )
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        macro = self.get_object()
        payload = api.MacroApplySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ticket = Ticket.objects.filter(
            organization_id__in=request.auth.organization_ids, public_id=payload.validated_data["ticket"]
        ).first()
        if ticket is None:
            raise NotFound("No such ticket.")
        services.apply_macro(macro=macro, ticket=ticket, actor=request.auth.actor)
        macro.refresh_from_db()
        return Response(api.MacroSerializer(macro).data)
