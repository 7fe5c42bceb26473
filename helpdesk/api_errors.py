"""The native API's one error shape, and the translation of domain errors into it.

{"error": "Bad Request", "message": "...", "code": 400,
 "details": [{"field": "email", "message": "..."}], "request_id": "req_..."}
"""

import logging
from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from tickets import exceptions as domain

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait after the database was unreachable.
DATABASE_RETRY_AFTER = 5

# Domain errors and the status each one answers with, across every face that uses this
# table (the native API; dialects keep their own where their documents differ).
DOMAIN_STATUS = {
    domain.InvalidInput: status.HTTP_400_BAD_REQUEST,
    domain.NotFound: status.HTTP_404_NOT_FOUND,
    domain.PermissionDenied: status.HTTP_403_FORBIDDEN,
    domain.InvalidTransition: status.HTTP_409_CONFLICT,
    domain.IdempotencyConflict: status.HTTP_422_UNPROCESSABLE_ENTITY,
    domain.DailyLimitReached: status.HTTP_429_TOO_MANY_REQUESTS,
    domain.QuotaReached: status.HTTP_429_TOO_MANY_REQUESTS,
}


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


def error_body(request, status_code: int, message: str, details=None) -> dict:
    return {
        "error": status_phrase(status_code),
        "message": message,
        "code": status_code,
        "details": details or [],
        "request_id": getattr(request, "request_id", ""),
    }


def flatten_errors(detail, prefix: str = "") -> list[dict]:
    """DRF's nested error detail as a flat list of {"field", "message"}.

    Nested fields read ``customer.email``, list items ``tags[2]``; an error about the
    request as a whole has ``"field": null``.
    """
    return [{"field": item["field"] or None, "message": item["message"]} for item in _flatten(detail, prefix)]


def _flatten(detail, prefix: str) -> list[dict]:
    if isinstance(detail, dict):
        flattened = []
        for key, value in detail.items():
            if key == "non_field_errors":
                name = prefix
            elif isinstance(key, int):  # a ListField names the item at fault by its index
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            flattened.extend(_flatten(value, name))
        return flattened
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [{"field": prefix, "message": str(item)} for item in detail]
        flattened = []
        for index, item in enumerate(detail):
            if item:
                flattened.extend(_flatten(item, f"{prefix}[{index}]" if prefix else str(index)))
        return flattened
    return [{"field": prefix, "message": str(detail)}]


def _retry_after(error) -> int | None:
    if isinstance(error, domain.DailyLimitReached):
        return error.retry_after_seconds
    if isinstance(error, domain.QuotaReached):
        from tickets.services import seconds_until_next_month

        return seconds_until_next_month()
    return None


def exception_handler(exc, context):
    request = context.get("request")
    headers = {}

    if isinstance(exc, domain.HelpdeskError):
        status_code = DOMAIN_STATUS.get(type(exc), status.HTTP_400_BAD_REQUEST)
        details = (
            [{"field": exc.field, "message": exc.message}] if isinstance(exc, domain.InvalidInput) else []
        )
        message = "The request contains invalid parameters." if details else exc.message
        if details and exc.field:
            message = f"Invalid {exc.field}: {exc.message}"
        retry_after = _retry_after(exc)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return Response(
            error_body(request, status_code, message, details), status=status_code, headers=headers
        )

    if isinstance(exc, OperationalError | InterfaceError):
        # The database went away mid-request; the service's transaction rolled back, so
        # nothing was stored and a retry is safe.
        logger.exception("Database unavailable during %s", getattr(request, "path", "a request"))
        return Response(
            error_body(
                request, 503, "The service is temporarily unavailable; nothing was saved. Retry shortly."
            ),
            status=503,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )

    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, RequestDataTooBig):
        return Response(
            error_body(request, 413, "The request body is too large."), status=413, headers=headers
        )
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    if not isinstance(exc, exceptions.APIException):
        return None

    if isinstance(exc, exceptions.ValidationError):
        details = flatten_errors(exc.detail)
        message = _summary(details)
    else:
        details = []
        message = str(exc.detail) if not isinstance(exc.detail, (dict, list)) else str(exc)
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(int(exc.wait) + 1)
    if isinstance(exc, exceptions.NotAuthenticated):
        message = (
            "Authentication required: send your API key as X-API-Key or "
            "Authorization: Bearer, or an agent token as Authorization: Bearer."
        )
    return Response(
        error_body(request, exc.status_code, message, details),
        status=exc.status_code,
        headers=headers,
    )


def _summary(details: list[dict]) -> str:
    if not details:
        return "The request contains invalid parameters or malformed data."
    if len(details) == 1:
        field = details[0]["field"]
        return f"Invalid {field}: {details[0]['message']}" if field else details[0]["message"]
    fields = ", ".join(sorted({item["field"] or "request" for item in details}))
    return f"The request contains invalid parameters: {fields}."


def json_error(request, status_code: int, message: str) -> JsonResponse:
    return JsonResponse(error_body(request, status_code, message), status=status_code)
