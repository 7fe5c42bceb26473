"""What every dialect shares: JSON in and out, and the writing of any failure in the
dialect's own documented error shape.

A dialect view subclasses ``DialectView`` and implements ``error_body(problem)``; every
failure — a missing key, malformed JSON, a domain refusal, a throttle, a database outage,
a crash — passes through ``DialectView.handle_dialect_exception``, which asks
``helpdesk.problems.problem_for`` what it is (the same answer the native API gets) and
only puts it in the dialect's words, so no error ever leaves a dialect in another
product's shape or as an HTML page.
"""

from datetime import UTC, datetime

from drf_spectacular.utils import inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.principals import Principal
from helpdesk.parsers import StrictJSONParser
from helpdesk.problems import DOMAIN_STATUS, Problem, log_server_side, problem_for
from tickets.pagination import CappedCountPaginator, positive_number

# Business codes by HTTP status, for the failures a dialect's document does not name itself
# (inapp and SupportDesk write a code in their error envelope).
STATUS_CODES: dict[int, str] = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "IDEMPOTENCY_CONFLICT",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


class JSONOnlyNegotiation(BaseContentNegotiation):
    """Dialects answer JSON whatever ``Accept`` says: their clients never negotiate."""

    def select_parser(self, request, parsers):
        for parser in parsers:
            if request.content_type.split(";")[0].strip().lower() == parser.media_type:
                return parser
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def looks_like_public_id(value: str) -> bool:
    """A ULID-shaped id (letters and digits). Anything else cannot name a row, and is never
    sent to the database (PostgreSQL refuses NUL characters in a query outright)."""
    return 1 <= len(value) <= 40 and value.isascii() and value.isalnum()


def isoformat(moment: datetime | None) -> str | None:
    """``2026-03-15T10:00:00Z``, as the seed documents write their timestamps."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def now_iso() -> str:
    return isoformat(datetime.now(UTC))


# Input fields --------------------------------------------------------------------------


class JSONObjectField(serializers.JSONField):
    """A JSON object (not a list, string or number). Text that cannot be stored never gets
    this far: ``StrictJSONParser`` refuses it in the whole body."""

    default_error_messages = {"not_object": "Must be a JSON object."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_object")
        return super().to_internal_value(data)


class IsIntegratorOrCustomer(BasePermission):
    """An organization key, or a customer's own credential (Ctxfy takes either)."""

    message = "This credential cannot use this endpoint."

    def has_permission(self, request, view):
        principal = request.auth
        return isinstance(principal, Principal) and (principal.is_integrator or principal.is_customer)


# Error shapes --------------------------------------------------------------------------


def error_detail_output(name: str, **kwargs) -> serializers.Serializer:
    """The schema of one ``details`` entry, ``{"field", "message"}``, under the dialect's own
    component name."""
    return inline_serializer(
        name,
        fields={"field": serializers.CharField(allow_null=True), "message": serializers.CharField()},
        **kwargs,
    )


def simple_error_body(problem: Problem, request_id: str, *, field_message: str) -> dict:
    """``{"error": "<status phrase>", "message", "details", "requestId"}`` (appbox, CrawlChat).

    ``details`` only when there are some, and then ``message`` names the first field at
    fault through ``field_message`` (with ``{field}`` and ``{message}``); ``requestId`` only
    on a server error.
    """
    body = {"error": problem.phrase, "message": problem.message}
    if problem.details:
        body["details"] = problem.details
        first = problem.details[0]
        if first["field"]:
            body["message"] = field_message.format(field=first["field"], message=first["message"])
    if problem.status >= 500:
        body["requestId"] = request_id
    return body


def envelope_error_body(problem: Problem, request_id: str, *, domain_codes: dict[str, str]) -> dict:
    """``{"success": false, "error": {"code", "message", "details", "requestId"}}`` (inapp,
    SupportDesk): the document's code for a domain refusal it names, else the status's."""
    error = {
        "code": domain_codes.get(problem.code) or STATUS_CODES.get(problem.status, "ERROR"),
        "message": problem.message,
        "details": problem.details,
    }
    if problem.status >= 500:
        error["requestId"] = request_id
    return {"success": False, "error": error}


# Views ---------------------------------------------------------------------------------


class DialectView(APIView):
    """A seed product's endpoint: JSON only, its own credentials, its own error shape."""

    renderer_classes = [JSONRenderer]
    parser_classes = [StrictJSONParser]
    content_negotiation_class = JSONOnlyNegotiation
    # The dialect's words for our domain's field names, in error details.
    field_names: dict[str, str] = {}
    domain_status: dict[type, int] = DOMAIN_STATUS
    unauthenticated_message = "Authentication required. Please provide a valid API key."
    invalid_message = "The request contains invalid parameters or malformed data."

    def get_exception_handler(self):
        return self.handle_dialect_exception

    def handle_dialect_exception(self, exc, context):
        problem = self.problem_for(exc)
        log_server_side(problem, exc, self.request, face=type(self).__name__)
        return Response(self.error_body(problem), status=problem.status, headers=problem.headers)

    def error_body(self, problem: Problem) -> dict:
        raise NotImplementedError

    @property
    def request_id(self) -> str:
        return getattr(self.request, "request_id", "")

    def _field(self, name: str | None) -> str | None:
        if not name:
            return name
        return self.field_names.get(name, name)

    def problem_for(self, exc) -> Problem:
        """The one translation of ``exc``, in this dialect's words where its document has
        its own: the 401 and 400 messages, and its names for our fields."""
        problem = problem_for(exc, request=self.request, domain_status=self.domain_status)
        if problem.status == 401:
            problem.message = self.unauthenticated_message
        elif problem.code == "validation_error":
            problem.message = self.invalid_message
            problem.details = [
                {"field": self._field(item["field"]), "message": item["message"]} for item in problem.details
            ]
        return problem

    def validated(self, serializer_class, data=None) -> dict:
        payload = serializer_class(data=self.request.data if data is None else data)
        payload.is_valid(raise_exception=True)
        return payload.validated_data


class DialectNotFoundView(DialectView):
    """Any other path under a dialect's prefix: its own 404, not Django's HTML page."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    schema = None  # not an operation: kept out of the OpenAPI document

    def _not_found(self, request, *args, **kwargs):
        raise exceptions.NotFound()

    get = post = put = patch = delete = head = options = _not_found


class UnknownDialectView(DialectNotFoundView):
    """A path under /compat/ that names no dialect: a plain JSON 404."""

    def error_body(self, problem: Problem) -> dict:
        return {"error": problem.phrase, "message": "No such API under /compat/."}


def paginate(queryset, request, *, default_per_page: int = 20, max_per_page: int = 100):
    """``page``/``per_page`` from the query string: the page's rows and its pagination block.

    The block is exactly the documented ``page``, ``per_page``, ``total``, ``total_pages``.
    The count stops past ``COUNT_CAP`` rows (``total`` is then the cap, and the block adds
    ``"total_is_capped": true``, as the native API says it); pages reach as far as the
    capped total. A page past the end is an empty list with the totals, not an error.
    """
    errors = {}
    values = {}
    for name, default, maximum in (("page", 1, None), ("per_page", default_per_page, max_per_page)):
        raw = request.query_params.get(name, "")
        if raw == "":
            values[name] = default
            continue
        value = positive_number(raw)
        if value is None or (maximum is not None and value > maximum):
            errors[name] = [
                f"Must be a whole number between 1 and {maximum}."
                if maximum
                else "Must be a whole number of at least 1."
            ]
            continue
        values[name] = value
    if errors:
        raise exceptions.ValidationError(errors)
    paginator = CappedCountPaginator(queryset, values["per_page"])
    page = paginator.page_or_empty(values["page"])
    pagination = {
        "page": page.number,
        "per_page": paginator.per_page,
        "total": paginator.total,
        "total_pages": paginator.num_pages if paginator.count else 0,
    }
    if paginator.total_is_capped:
        pagination["total_is_capped"] = True
    return list(page.object_list), pagination
