"""The one way every face pages a list: a count that stops at a cap, and deep pages that find
their ids first.

The native API, the dialects and the dashboard's queue each keep their own parameters and
answer shape; they share this paginator so that none of them ever counts a whole table or
reads and discards every skipped row of a deep page. It lives beside the domain, not in a
face, so no face imports another.
"""

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import IntegerField, QuerySet, Subquery
from django.utils.functional import cached_property

# Past this many matching rows a list's total is reported as this number (and flagged as
# capped), so a list over millions of tickets never counts the whole table.
COUNT_CAP = 10_000


class CappedCount(Subquery):
    """COUNT(*) of a subquery that stops at its LIMIT: an expression, so several counts can
    share one statement (the queue counts its list and its saved views together)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS capped)"
    output_field = IntegerField()

    def __init__(self, queryset: QuerySet, cap: int, **extra):
        super().__init__(queryset.order_by().values("pk")[: cap + 1], **extra)


def positive_number(raw: str | None) -> int | None:
    """A query-string value as a whole number of at least 1, or None when it is anything
    else (empty, not ASCII digits, zero, or too long for ``int`` to read)."""
    if not raw or not (raw.isascii() and raw.isdigit()):
        return None
    try:
        value = int(raw)
    except ValueError:  # more digits than Python converts
        return None
    return value if value >= 1 else None


class CappedPage(Page):
    def end_index(self) -> int:
        # Django ends the last page at the count, which here may be the cap plus the one
        # row that says the count stopped; the pages end at the cap.
        return min(super().end_index(), self.paginator.total)


class CappedCountPaginator(Paginator):
    """Counts at most ``cap + 1`` rows; pages reach only as far as the capped total.

    ``count`` may be given when the caller has already counted (capped the same way) in a
    statement of its own.
    """

    cap = COUNT_CAP

    def __init__(self, object_list, per_page, *args, count: int | None = None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        if count is not None:
            self.count = count  # fills the cached_property

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            # SELECT COUNT(*) FROM (SELECT ... LIMIT cap + 1): never the whole table.
            return self.object_list.order_by()[: self.cap + 1].count()
        return len(self.object_list)

    @property
    def total(self) -> int:
        """The total to show: the count, at most the cap."""
        return min(self.count, self.cap)

    @property
    def total_is_capped(self) -> bool:
        return self.count > self.cap

    @cached_property
    def num_pages(self) -> int:
        # Pages end at the capped total, so the last page listed is one that exists.
        hits = max(1, self.total)
        return -(-hits // self.per_page)

    def page(self, number):
        """Past the first page, the page's ids are found first and only those rows read.

        Finding them walks the list's index alone (an index-only scan), where reading whole
        rows would fetch and join every skipped row before discarding it. Both happen in
        one statement: ``WHERE id IN (SELECT id ... LIMIT per_page OFFSET bottom)``.
        """
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = self.object_list
        if bottom == 0 or not isinstance(rows, QuerySet):
            return super().page(number)
        top = min(bottom + self.per_page, self.total)
        ids = rows.values("pk")[bottom:top]
        return self._get_page(list(rows.filter(pk__in=ids)), number, self)

    def _get_page(self, *args, **kwargs):
        return CappedPage(*args, **kwargs)

    def page_or_empty(self, number: int):
        """The page, or an empty page numbered as asked when it lies past the end (the
        dialects' documented answer, where the native API answers 404)."""
        try:
            return self.page(number)
        except EmptyPage:
            return self._get_page([], number, self)
