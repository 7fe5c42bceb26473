"""/api/v1/custom-fields: the organization's ticket fields (their values are on tickets).

Any caller of the organization reads them; changing them is an organization setting: an
API key not restricted to one inbox (a field may show in every inbox), or an owner or
admin's personal token (the services check the role).
"""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from tickets import services
from tickets.exceptions import PermissionDenied
from tickets.models import CustomField
from tickets.services.custom_fields import inboxes_by_public_id

from . import serializers as api
from .views import _organization_of


def _refuse_restricted_key(principal) -> None:
    if principal.restricted_inbox_id is not None:
        raise PermissionDenied("An API key restricted to one inbox cannot change custom fields.")


@extend_schema_view(
    list=extend_schema(summary="List custom fields", tags=["custom fields"]),
    retrieve=extend_schema(summary="Get a custom field", tags=["custom fields"]),
    destroy=extend_schema(
        summary="Delete a custom field (values stay in the tickets' history)", tags=["custom fields"]
    ),
)
class CustomFieldViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = api.CustomFieldSerializer
    pagination_class = None
    error_responses = {
        "create": [403],
        "partial_update": [403],
        "destroy": [403],
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return CustomField.objects.none()
        return (
            CustomField.objects.filter(organization_id__in=self.request.auth.organization_ids)
            .select_related("organization")
            .prefetch_related("inboxes")
        )

    @extend_schema(
        summary="Create a custom field",
        tags=["custom fields"],
        request=api.CustomFieldCreateSerializer,
        responses={201: api.CustomFieldSerializer},
        examples=[
            OpenApiExample(
                "An order number",
                request_only=True,
                value={"key": "order_id", "label": "Order", "type": "text", "options": []},
            )
        ],
    )
    def create(self, request):
        _refuse_restricted_key(request.auth)
        payload = api.CustomFieldCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        organization = _organization_of(request.auth)
        if "inboxes" in data:
            data["inboxes"] = inboxes_by_public_id(organization, data["inboxes"])
        field = services.create_custom_field(organization=organization, actor=request.auth.actor, **data)
        return Response(api.CustomFieldSerializer(field).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a custom field's label, options, rule or inboxes",
        tags=["custom fields"],
        request=api.CustomFieldUpdateSerializer,
        responses={200: api.CustomFieldSerializer},
    )
    def partial_update(self, request, pk=None):
        _refuse_restricted_key(request.auth)
        field = self.get_object()
        payload = api.CustomFieldUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if "inboxes" in data:
            data["inboxes"] = inboxes_by_public_id(field.organization, data["inboxes"])
        field = services.update_custom_field(field=field, actor=request.auth.actor, **data)
        field = self.get_queryset().get(pk=field.pk)
        return Response(api.CustomFieldSerializer(field).data)

    def perform_destroy(self, instance):
        _refuse_restricted_key(self.request.auth)
        services.delete_custom_field(field=instance, actor=self.request.auth.actor)
