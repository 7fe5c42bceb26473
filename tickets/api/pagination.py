from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

# Past this many matching rows the total is reported as this number, so a list over
# millions of tickets never counts the whole table.
COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows; pages reach only as far as the capped total."""

    @cached_property
    def count(self):
        return (
            self.object_list[: COUNT_CAP + 1].count()
            if hasattr(self.object_list, "count")
            else len(self.object_list)
        )

    def page(self, number):
        """Past the first page, the page's ids are found first and only those rows read.

        Finding them walks the list's index alone (an index-only scan), where reading
        whole rows would fetch and join every skipped row before discarding it.
        """
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = self.object_list
        if bottom == 0 or not isinstance(rows, QuerySet):
            return super().page(number)
        top = min(bottom + self.per_page, self.count)
        ids = list(rows.values_list("pk", flat=True)[bottom:top])
        return self._get_page(list(rows.filter(pk__in=ids)), number, self)

    @cached_property
    def num_pages(self):
        # Pages end at the capped total, so the last page listed is one that exists.
        hits = max(1, min(self.count, COUNT_CAP))
        return -(-hits // self.per_page)


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
            if raw is not None and not (raw.isdigit() and int(raw) >= 1):
                errors[name] = "Must be a whole number of at least 1."
        if errors:
            raise ValidationError(errors)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        return Response({"data": data, "pagination": self.pagination_data()})

    def pagination_data(self) -> dict:
        paginator = self.page.paginator
        total = paginator.count
        return {
            "page": self.page.number,
            "per_page": paginator.per_page,
            "total": min(total, COUNT_CAP),
            "total_pages": paginator.num_pages if total else 0,
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

    def get_schema_operation_parameters(self, view):
        # Say what paginate_queryset enforces, so clients (and schema fuzzers) do not send
        # a page of 0 believing it valid; per_page above the cap is clamped, not refused.
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] in (self.page_query_param, self.page_size_query_param):
                parameter["schema"]["minimum"] = 1
        return parameters
