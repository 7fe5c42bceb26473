"""What every dialect shares: JSON in and out, and one way to turn any failure into a
``Problem`` that each dialect then writes in its own documented error shape.

A dialect view subclasses ``DialectView`` and implements ``error_body(problem)``; every
failure — a missing key, malformed JSON, a domain refusal, a throttle, a crash — passes
through ``DialectView.handle_dialect_exception``, so no error ever leaves a dialect in
another product's shape or as an HTML page.
"""

import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from drf_spectacular.utils import inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.principals import Principal
from helpdesk.api_errors import status_phrase
from tickets import exceptions as domain
from tickets.pagination import CappedCountPaginator, positive_number

logger = logging.getLogger("tickets.dialects")

# How each domain refusal answers unless a dialect's document says otherwise.
DOMAIN_STATUS: dict[type, int] = {
    domain.InvalidInput: 400,
    domain.NotFound: 404,
    domain.PermissionDenied: 403,
    domain.InvalidTransition: 409,
    domain.IdempotencyConflict: 422,
    domain.DailyLimitReached: 429,
    domain.QuotaReached: 429,
}


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
}


@dataclass
class Problem:
    """A failure, independent of any product's way of writing it down."""

    status: int
    message: str
    code: str = ""
    details: list[dict] = field(default_factory=list)
    retry_after: int | None = None
    auth_header: str = ""

    @property
    def phrase(self) -> str:
        return status_phrase(self.status)


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


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


class StrictCharField(serializers.CharField):
    """A string and only a string: a number or a boolean where text belongs is an error."""

    default_error_messages = {"not_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_string")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    default_error_messages = {"not_string": "Must be a string.", "invalid": "Invalid email format."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_string")
        return super().to_internal_value(data).lower()


def _has_unstorable_text(value) -> bool:
    """NUL characters and lone surrogates cannot be stored (PostgreSQL refuses them)."""
    if isinstance(value, str):
        return "\x00" in value or any(0xD800 <= ord(character) <= 0xDFFF for character in value)
    if isinstance(value, dict):
        return any(_has_unstorable_text(key) or _has_unstorable_text(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_unstorable_text(item) for item in value)
    return False


class JSONObjectField(serializers.JSONField):
    """A JSON object (not a list, string or number) whose text can be stored."""

    default_error_messages = {
        "not_object": "Must be a JSON object.",
        "unstorable": "Must not contain NUL characters or unpaired surrogates.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_object")
        if _has_unstorable_text(data):
            self.fail("unstorable")
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


def flatten_errors(detail, prefix: str = "") -> list[dict]:
    """DRF's nested validation errors as ``[{"field", "message"}]``."""
    if isinstance(detail, dict):
        flattened = []
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                name = prefix
            elif isinstance(key, int):
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            flattened.extend(flatten_errors(value, name))
        return flattened
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [{"field": prefix or None, "message": str(item)} for item in detail]
        flattened = []
        for index, item in enumerate(detail):
            if item:
                flattened.extend(flatten_errors(item, f"{prefix}[{index}]"))
        return flattened
    return [{"field": prefix or None, "message": str(detail)}]


class DialectView(APIView):
    """A seed product's endpoint: JSON only, its own credentials, its own error shape."""

    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    content_negotiation_class = JSONOnlyNegotiation
    # The dialect's words for our domain's field names, in error details.
    field_names: dict[str, str] = {}
    domain_status: dict[type, int] = DOMAIN_STATUS
    unauthenticated_message = "Authentication required. Please provide a valid API key."
    invalid_message = "The request contains invalid parameters or malformed data."

    def initial(self, request, *args, **kwargs):
        # DRF streams the body into its JSON parser without Django's size check.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            raise PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.")
        super().initial(request, *args, **kwargs)

    def get_exception_handler(self):
        return self.handle_dialect_exception

    def handle_dialect_exception(self, exc, context):
        problem = self.problem_for(exc)
        if problem.status >= 500:
            logger.error(
                "Unexpected error in %s (request %s)",
                type(self).__name__,
                getattr(self.request, "request_id", ""),
                exc_info=exc,
            )
        headers = {}
        if problem.retry_after is not None:
            headers["Retry-After"] = str(problem.retry_after)
        if problem.auth_header:
            headers["WWW-Authenticate"] = problem.auth_header
        return Response(self.error_body(problem), status=problem.status, headers=headers)

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
        """Any exception as a Problem; unknown ones are a 500 that reveals nothing."""
        if isinstance(exc, domain.HelpdeskError):
            return self.domain_problem(exc)
        if isinstance(exc, RequestDataTooBig):
            exc = PayloadTooLarge()
        elif isinstance(exc, Http404):
            exc = exceptions.NotFound("Not found.")
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied()
        if not isinstance(exc, exceptions.APIException):
            return Problem(500, "An unexpected error occurred on the server", code="internal_error")

        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            return Problem(
                401,
                self.unauthenticated_message,
                code="unauthorized",
                auth_header=self.get_authenticate_header(self.request) or "",
            )
        if isinstance(exc, exceptions.ValidationError):
            details = [
                {"field": self._field(item["field"]), "message": item["message"]}
                for item in flatten_errors(exc.detail)
            ]
            return Problem(400, self.invalid_message, code="validation_error", details=details)
        if isinstance(exc, exceptions.ParseError):
            return Problem(
                400,
                self.invalid_message,
                code="validation_error",
                details=[{"field": None, "message": "The body is not valid JSON."}],
            )
        if isinstance(exc, exceptions.Throttled):
            wait = math.ceil(exc.wait) if exc.wait is not None else None
            return Problem(
                429, "Too many requests: slow down and retry later.", code="rate_limited", retry_after=wait
            )
        if isinstance(exc, exceptions.UnsupportedMediaType):
            return Problem(
                415, "Send the body as JSON (Content-Type: application/json).", code="unsupported_media_type"
            )
        if isinstance(exc, exceptions.MethodNotAllowed):
            return Problem(
                405, f"Method {self.request.method} is not allowed here.", code="method_not_allowed"
            )
        if isinstance(exc, exceptions.NotFound):
            return Problem(404, "Not found.", code="not_found")
        if isinstance(exc, exceptions.PermissionDenied):
            return Problem(403, str(exc.detail), code="forbidden")
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
        return Problem(exc.status_code, str(detail), code=str(getattr(exc, "default_code", "error")))

    def domain_problem(self, exc: domain.HelpdeskError) -> Problem:
        status = next(
            (self.domain_status[kind] for kind in type(exc).__mro__ if kind in self.domain_status), 400
        )
        if isinstance(exc, domain.InvalidInput):
            return Problem(
                status,
                self.invalid_message,
                code="validation_error",
                details=[{"field": self._field(exc.field), "message": exc.message}],
            )
        retry_after = None
        if isinstance(exc, domain.DailyLimitReached):
            retry_after = exc.retry_after_seconds
        elif isinstance(exc, domain.QuotaReached) and status == 429:
            from tickets.services import seconds_until_next_month

            retry_after = seconds_until_next_month()
        return Problem(status, exc.message, code=exc.code, retry_after=retry_after)

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
