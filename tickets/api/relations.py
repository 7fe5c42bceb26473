"""Merge, split and link, as actions of ``/api/v1/tickets/{id}`` (issue 16, item 9).

Every ticket named in a body is looked up among the caller's own tickets, like the one in
the path: another organization's (or, for a key restricted to one inbox, another inbox's)
is the same 404 as one that does not exist.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from tickets import services
from tickets.models import Message, Ticket
from tickets.selectors import links_of, tickets_for_principal

from . import serializers as api

OTHER_ID = OpenApiParameter("other_id", str, OpenApiParameter.PATH, description="The related ticket's id.")


class TicketRelationsMixin:
    """The TicketViewSet's merge, split and link actions."""

    relations_error_responses = {
        "merge": [400, 404, 409],
        "split": [400, 404, 409],
        "links": [400, 404],
        "unlink": [404],
    }

    def _callers_ticket(self, public_id: str) -> Ticket:
        ticket = tickets_for_principal(self.request.auth).filter(public_id=public_id).first()
        if ticket is None:
            raise Http404("No such ticket.")
        return ticket

    @extend_schema(
        summary="Merge this ticket (a duplicate) into another",
        description="The thread moves to the ticket named by `into`, which keeps its own customer "
        "(this ticket's customer is copied on it); this ticket is closed and linked to it, and "
        "its private link and email replies lead there. Answers with the ticket merged into.",
        tags=["tickets"],
        request=api.MergeInputSerializer,
        responses={200: api.TicketDetailSerializer},
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def merge(self, request, id=None):
        source = self.get_object()
        payload = api.MergeInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        target = self._callers_ticket(payload.validated_data["into"])
        target = services.merge_tickets(source=source, target=target, actor=request.auth.actor)
        return Response(self._detail(target))

    @extend_schema(
        summary="Split a message off into a new ticket",
        description="The message moves to a new ticket of the same customer and inbox, linked to "
        "this one. Not the ticket's first message, nor an internal note.",
        tags=["tickets"],
        request=api.SplitInputSerializer,
        responses={201: api.TicketDetailSerializer},
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def split(self, request, id=None):
        ticket = self.get_object()
        payload = api.SplitInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        message = Message.objects.filter(ticket=ticket, public_id=data["message"]).first()
        if message is None:
            raise Http404("No such message on this ticket.")
        new = services.split_ticket(
            ticket=ticket, message=message, actor=request.auth.actor, subject=data.get("subject", "")
        )
        return Response(self._detail(new), status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="A ticket's links: related, merged and split tickets",
        tags=["tickets"],
        responses={200: api.TicketLinkListSerializer},
    )
    @extend_schema(
        methods=["POST"],
        summary="Mark another ticket as related to this one",
        description="Links are symmetric: each ticket lists the other. Linking again answers 200.",
        tags=["tickets"],
        request=api.LinkInputSerializer,
        responses={200: api.TicketLinkSerializer, 201: api.TicketLinkSerializer},
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def links(self, request, id=None):
        ticket = self.get_object()
        if request.method == "GET":
            return Response({"data": api.TicketLinkSerializer(links_of(ticket), many=True).data})
        payload = api.LinkInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        other = self._callers_ticket(payload.validated_data["ticket"])
        created = services.link_tickets(ticket=ticket, other=other, actor=request.auth.actor)
        link = next(link for link in links_of(ticket) if link.other_id == other.pk and link.kind == "related")
        return Response(
            api.TicketLinkSerializer(link).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Remove a related link",
        description="Both tickets stop listing each other. Merges and splits stay linked.",
        tags=["tickets"],
        parameters=[OTHER_ID],
        request=None,
        responses={204: None},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"links/(?P<other_id>[^/.]+)",
        filterset_class=None,
        pagination_class=None,
    )
    def unlink(self, request, id=None, other_id=None):
        ticket = self.get_object()
        other = self._callers_ticket(other_id)
        if not services.unlink_tickets(ticket=ticket, other=other, actor=request.auth.actor):
            raise Http404("These tickets are not linked.")
        return Response(status=status.HTTP_204_NO_CONTENT)
