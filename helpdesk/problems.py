"""One translation of any failure into a ``Problem``; each face only writes it down.

Every JSON face — the native API (``helpdesk/api_errors.py``), the customer API and each
dialect (``tickets/dialects/base.py``) — hands the exception it caught to
``problem_for`` and renders the ``Problem`` in its own body shape. The status a domain
refusal answers with, the field details of a validation error, ``Retry-After`` and
``WWW-Authenticate`` are decided here once, so the faces cannot drift apart (a database
outage used to be a 503 on the native API and a 500 on the dialects).
"""

import logging
import math
from dataclasses import dataclass, field
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions

from tickets import exceptions as domain

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait after the database was unreachable.
DATABASE_RETRY_AFTER = 5

# The status each domain refusal answers with. A face whose document says otherwise passes
# its own table (SupportDesk answers a used-up quota with 403); subclasses of a listed
# error answer like their parent.
DOMAIN_STATUS: dict[type, int] = {
    domain.InvalidInput: 400,
    domain.NotFound: 404,
    domain.PermissionDenied: 403,
    domain.InvalidTransition: 409,
    domain.NewMessagesSinceSeen: 409,
    domain.CustomerErased: 409,
    domain.IdempotencyConflict: 422,
    domain.DailyLimitReached: 429,
    domain.QuotaReached: 429,
}

UNEXPECTED_MESSAGE = "An unexpected error occurred on the server"
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable; nothing was saved. Retry shortly."
NOT_AUTHENTICATED_MESSAGE = (
    "Authentication required: send your API key as X-API-Key or "
    "Authorization: Bearer, or an agent token as Authorization: Bearer."
)

# Python 3.13 renamed some reason phrases to RFC 9110's wording; our error bodies keep one
# wording whatever interpreter serves them, so clients matching on "error" never break.
_STABLE_PHRASES = {
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    416: "Requested Range Not Satisfiable",
    422: "Unprocessable Entity",
}


def status_phrase(status_code: int) -> str:
    return _STABLE_PHRASES.get(status_code) or HTTPStatus(status_code).phrase


@dataclass
class Problem:
    """A failure, independent of any face's way of writing it down.

    ``code`` is a stable machine word (``validation_error``, ``unauthorized``,
    ``rate_limited``, ``service_unavailable``, a domain error's own code, ...) that a face
    may map to its document's vocabulary. ``details`` are ``{"field", "message"}`` with
    dotted field paths (``customer.email``, ``tags[2]``; ``None`` for the whole request).
    """

    status: int
    message: str
    code: str = ""
    details: list[dict] = field(default_factory=list)
    retry_after: int | None = None
    auth_header: str = ""

    @property
    def phrase(self) -> str:
        return status_phrase(self.status)

    @property
    def is_unexpected(self) -> bool:
        """Our own bug, not something the caller or the infrastructure did."""
        return self.code == "internal_error"

    @property
    def headers(self) -> dict[str, str]:
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.auth_header:
            headers["WWW-Authenticate"] = self.auth_header
        return headers


def flatten_errors(detail, prefix: str = "") -> list[dict]:
    """DRF's nested error detail as a flat list of ``{"field", "message"}``.

    Nested fields read ``customer.email``, list items ``tags[2]``; an error about the
    request as a whole has ``"field": None``.
    """
    flattened = []
    # Depth-first without recursion, in the order the serializer reported the errors.
    pending = [(prefix, detail)]
    while pending:
        name, item = pending.pop()
        children = []
        if isinstance(item, dict):
            for key, value in item.items():
                if key in ("non_field_errors", "__all__"):
                    child = name
                elif isinstance(key, int):  # a ListField names the item at fault by its index
                    child = f"{name}[{key}]"
                else:
                    child = f"{name}.{key}" if name else str(key)
                children.append((child, value))
        elif isinstance(item, list) and not all(isinstance(entry, str) for entry in item):
            children = [(f"{name}[{index}]", entry) for index, entry in enumerate(item) if entry]
        elif isinstance(item, list):
            flattened.extend({"field": name or None, "message": str(entry)} for entry in item)
        else:
            flattened.append({"field": name or None, "message": str(item)})
        pending.extend(reversed(children))
    return flattened


def summary(details: list[dict]) -> str:
    """One sentence for people about the fields at fault."""
    if not details:
        return "The request contains invalid parameters or malformed data."
    if len(details) == 1:
        name = details[0]["field"]
        return f"Invalid {name}: {details[0]['message']}" if name else details[0]["message"]
    fields = ", ".join(sorted({item["field"] or "request" for item in details}))
    return f"The request contains invalid parameters: {fields}."


def problem_for(exc, *, request=None, domain_status: dict[type, int] = DOMAIN_STATUS) -> Problem:
    """Any exception as a Problem; one we do not know is a 500 that reveals nothing."""
    if isinstance(exc, domain.HelpdeskError):
        return _domain_problem(exc, domain_status)
    if isinstance(exc, OperationalError | InterfaceError):
        # The database went away mid-request; the service's transaction rolled back, so
        # nothing was stored and a retry is safe.
        return Problem(503, UNAVAILABLE_MESSAGE, code="service_unavailable", retry_after=DATABASE_RETRY_AFTER)
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Problem(
            413, f"The request body is larger than the limit of {limit} bytes.", code="payload_too_large"
        )
    if isinstance(exc, Http404):
        return Problem(404, "Not found.", code="not_found")
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return Problem(500, UNEXPECTED_MESSAGE, code="internal_error")

    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # DRF sets ``auth_header`` from the view's first authentication class.
        message = (
            NOT_AUTHENTICATED_MESSAGE if isinstance(exc, exceptions.NotAuthenticated) else str(exc.detail)
        )
        return Problem(401, message, code="unauthorized", auth_header=getattr(exc, "auth_header", "") or "")
    if isinstance(exc, exceptions.ValidationError):
        details = flatten_errors(exc.detail)
        return Problem(400, summary(details), code="validation_error", details=details)
    if isinstance(exc, exceptions.ParseError):
        # The body as a whole is at fault: a detail without a field says so.
        return Problem(
            400,
            str(exc.detail),
            code="validation_error",
            details=[{"field": None, "message": str(exc.detail)}],
        )
    if isinstance(exc, exceptions.Throttled):
        wait = max(1, math.ceil(exc.wait)) if exc.wait is not None else None
        # DRF's own sentence says how long to wait ("Request was throttled. Expected ...").
        return Problem(429, str(exc.detail), code="rate_limited", retry_after=wait)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return Problem(
            415, "Send the body as JSON (Content-Type: application/json).", code="unsupported_media_type"
        )
    if isinstance(exc, exceptions.MethodNotAllowed):
        method = getattr(request, "method", "") or "This method"
        return Problem(405, f"Method {method} is not allowed here.", code="method_not_allowed")
    if isinstance(exc, exceptions.NotFound):
        return Problem(404, str(exc.detail), code="not_found")
    if isinstance(exc, exceptions.PermissionDenied):
        return Problem(403, str(exc.detail), code="forbidden")
    detail = exc.detail if isinstance(exc.detail, str) else exc.default_detail
    return Problem(exc.status_code, str(detail), code=str(getattr(exc, "default_code", "error")))


def _domain_problem(exc: domain.HelpdeskError, domain_status: dict[type, int]) -> Problem:
    status = next((domain_status[kind] for kind in type(exc).__mro__ if kind in domain_status), 400)
    if isinstance(exc, domain.InvalidInput):
        details = [{"field": exc.field or None, "message": exc.message}]
        return Problem(status, summary(details), code="validation_error", details=details)
    retry_after = getattr(exc, "retry_after_seconds", None) if status == 429 else None
    return Problem(status, exc.message, code=exc.code, retry_after=retry_after)


def log_server_side(problem: Problem, exc, request, *, face: str) -> None:
    """A 5xx is ours to look into: logged with the traceback and the request id."""
    if problem.status < 500:
        return
    request_id = getattr(request, "request_id", "")
    path = getattr(request, "path", "a request")
    if problem.code == "service_unavailable":
        logger.error(
            "Database unavailable during %s in %s (request %s)", path, face, request_id, exc_info=exc
        )
    else:
        logger.error("Unexpected error during %s in %s (request %s)", path, face, request_id, exc_info=exc)
