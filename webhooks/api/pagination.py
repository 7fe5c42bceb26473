"""The feed's cursor pagination: ``after`` is the id of the last event the caller has."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from tickets.pagination import positive_number

from ..models import Event


class EventCursorPagination(BasePagination):
    """``?after=<event id>&limit=<1..100>``: the events recorded after that one, oldest first.

    An organization's events commit in id order (``EventStream``), so a reader who pages
    on never misses one. The answer's ``next_cursor`` is the id of its last event (or the
    ``after`` it was given when there is nothing new): poll again with it.
    """

    default_limit = 100
    max_limit = 100

    def paginate_queryset(self, queryset, request, view=None):
        after = request.query_params.get("after", "")
        limit = request.query_params.get("limit")
        errors = {}
        size = self.default_limit
        if limit is not None:
            size = positive_number(limit)
            if size is None:
                errors["limit"] = "Must be a whole number of at least 1."
            else:
                size = min(size, self.max_limit)
        if after:
            position = (
                Event.objects.filter(public_id=after, organization_id__in=request.auth.organization_ids)
                .values_list("pk", flat=True)
                .first()
            )
            if position is None:
                errors["after"] = (
                    "Unknown cursor: give the id of an event from this feed. Events are kept for a "
                    "limited number of days; start again without after to read the oldest kept."
                )
            else:
                queryset = queryset.filter(pk__gt=position)
        if errors:
            raise ValidationError(errors)
        rows = list(queryset[: size + 1])
        self.has_more = len(rows) > size
        self.events = rows[:size]
        self.next_cursor = self.events[-1].public_id if self.events else (after or None)
        return self.events

    def get_paginated_response(self, data):
        return Response(
            {"data": data, "pagination": {"next_cursor": self.next_cursor, "has_more": self.has_more}}
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["data", "pagination"],
            "properties": {
                "data": schema,
                "pagination": {
                    "type": "object",
                    "properties": {
                        "next_cursor": {
                            "type": "string",
                            "nullable": True,
                            "description": "Pass as after= to read on; null when the feed is empty.",
                        },
                        "has_more": {"type": "boolean", "description": "More events are ready now."},
                    },
                },
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "after",
                "in": "query",
                "required": False,
                "description": "The id of the last event you have (the previous answer's next_cursor); "
                "leave out to start at the oldest event kept.",
                "schema": {"type": "string"},
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": "Events per answer, 1 to 100 (default 100).",
                "schema": {"type": "integer", "minimum": 1, "maximum": 100},
            },
        ]
