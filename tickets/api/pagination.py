from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

# Past this many matching rows the total is reported as this number, so a list over
# millions of tickets never counts the whole table.
COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    @cached_property
    def count(self):
        return (
            self.object_list[: COUNT_CAP + 1].count()
            if hasattr(self.object_list, "count")
            else len(self.object_list)
        )


class PagePagination(PageNumberPagination):
    """``page`` and ``per_page`` (at most 100); answers ``{"data", "pagination"}``."""

    page_size = 20
    page_size_query_param = "per_page"
    max_page_size = 100
    django_paginator_class = CappedCountPaginator

    def get_paginated_response(self, data):
        return Response({"data": data, "pagination": self.pagination_data()})

    def pagination_data(self) -> dict:
        paginator = self.page.paginator
        total = paginator.count
        return {
            "page": self.page.number,
            "per_page": paginator.per_page,
            "total": min(total, COUNT_CAP),
            "total_pages": paginator.num_pages,
            "total_is_capped": total > COUNT_CAP,
        }

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["data", "pagination"],
            "properties": {
                "data": schema,
                "pagination": {
                    "type": "object",
                    "properties": {
                        "page": {"type": "integer"},
                        "per_page": {"type": "integer"},
                        "total": {"type": "integer"},
                        "total_pages": {"type": "integer"},
                        "total_is_capped": {"type": "boolean"},
                    },
                },
            },
        }
