from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from tickets.pagination import CappedCountPaginator, positive_number


class PagePagination(PageNumberPagination):
    """``page`` and ``per_page`` (at most 100); answers ``{"data", "pagination"}``."""

    page_size = 20
    page_size_query_param = "per_page"
    max_page_size = 100
    django_paginator_class = CappedCountPaginator

    def paginate_queryset(self, queryset, request, view=None):
        # A page or per_page that is not a positive number is a bad request (400); a page
        # past the end is a 404, as DRF answers.
        errors = {}
        for name in (self.page_query_param, self.page_size_query_param):
            raw = request.query_params.get(name)
            if raw is not None and positive_number(raw) is None:
                errors[name] = "Must be a whole number of at least 1."
        if errors:
            raise ValidationError(errors)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        return Response({"data": data, "pagination": self.pagination_data()})

    def pagination_data(self) -> dict:
        paginator = self.page.paginator
        return {
            "page": self.page.number,
            "per_page": paginator.per_page,
            "total": paginator.total,
            "total_pages": paginator.num_pages if paginator.count else 0,
            "total_is_capped": paginator.total_is_capped,
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

    def get_schema_operation_parameters(self, view):
        # Say what paginate_queryset enforces, so clients (and schema fuzzers) do not send
        # a page of 0 believing it valid; per_page above the cap is clamped, not refused.
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in (self.page_query_param, self.page_size_query_param):
                parameter["schema"]["minimum"] = 1
        return parameters
