"""How the OpenAPI document describes our API beyond what drf-spectacular infers.

- Every operation lists every status it can answer: the native API's in the one error
  shape (``Error``), with ``Retry-After`` on 429 and ``X-Request-ID`` on every response;
  the statuses any operation of its kind answers (``document_every_status``) in the
  shape of that operation's other errors, so a dialect's stay in its product's shape.
  ``helpdesk/tests/status_recorder.py`` compares them with what the tests observe.
- Our authentication classes are described as security schemes: an organization API key
  as ``X-API-Key`` or as a bearer token, an agent's personal token as a bearer token.
"""

import copy

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

ERROR_DESCRIPTIONS = {
    400: "Invalid input: the fields at fault are named in `details`.",
    401: "Missing, invalid, revoked or expired credential.",
    403: "The credential may not do this (e.g. a key restricted to another inbox).",
    404: "No such object for this credential (another organization's objects are never revealed).",
    409: "The change conflicts with the ticket's state (e.g. an illegal status move).",
    413: "The request body is larger than the limit.",
    415: "The request body is not JSON.",
    422: "This Idempotency-Key was used before with a different request.",
    429: "A limit was reached: request throttle, customer daily limit or monthly quota. "
    "`Retry-After` says when to try again.",
}

# What the statuses that ``document_every_status`` adds mean, whatever the face.
STATUS_DESCRIPTIONS = {
    **ERROR_DESCRIPTIONS,
    405: "This method is not allowed on this path (the path's other operations are).",
    406: "The `Accept` header asks for something other than JSON.",
    500: "An unexpected error on our side; quote the request id.",
    503: "The database was unavailable; nothing was saved. `Retry-After` says when to retry.",
}

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A retried POST with the same key returns the first result and creates nothing; "
    "the same key with a different body is a 422.",
)

REQUEST_ID_HEADER = {
    "X-Request-ID": {
        "schema": {"type": "string"},
        "description": "The id of this request, quoted in error bodies; send your own to trace it.",
    }
}
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "schema": {"type": "integer"},
        "description": "Seconds to wait before trying again.",
    }
}


class ErrorDetailSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True, help_text="The input at fault, e.g. `customer.email`; null for the whole request."
    )
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the native API."""

    error = serializers.CharField(help_text='The HTTP status phrase, e.g. "Bad Request".')
    message = serializers.CharField(help_text="What went wrong, for people.")
    code = serializers.IntegerField(help_text="The HTTP status code.")
    details = ErrorDetailSerializer(many=True)
    request_id = serializers.CharField(help_text="Same as the X-Request-ID response header.")

    class Meta:
        ref_name = "Error"


class AutoSchema(openapi.AutoSchema):
    """Adds the error responses that only the view knows it gives: a view names them with
    ``error_responses = {"<action>": [409, ...]}``. The rest: ``document_every_status``."""

    def _error_codes(self) -> set[int]:
        # 401 gives every operation the Error response that ``document_every_status`` copies
        # for the statuses any operation of its kind answers; a view names the rest.
        codes = {401}
        if self.method != "GET":
            action = getattr(self.view, "action", None)
            codes |= set(getattr(self.view, "error_responses", {}).get(action, ()))
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response" or not self.path.startswith("/api/v1/"):
            return responses
        for response in responses.values():
            # drf-spectacular builds a DELETE's 204 without asking for headers.
            response.setdefault("headers", dict(REQUEST_ID_HEADER))
        for code in sorted(self._error_codes()):
            if str(code) in responses:
                continue
            response = self._get_response_for_code(
                OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]), str(code)
            )
            if code == 429:
                response.setdefault("headers", {}).update(RETRY_AFTER_HEADER)
            responses[str(code)] = response
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if self.path.startswith("/api/"):
            headers = {**REQUEST_ID_HEADER, **headers}
        return headers


def bearer(description: str, *, bearer_format: str = "") -> dict:
    """The security definition of a credential sent as ``Authorization: Bearer <it>``."""
    definition = {"type": "http", "scheme": "bearer"}
    if bearer_format:
        definition["bearerFormat"] = bearer_format
    definition["description"] = description
    return definition


def security_scheme(
    target_class: str, name: str, definition: dict, **options
) -> type[OpenApiAuthenticationExtension]:
    """Describes an authentication class as one security scheme of the OpenAPI document.

    Making the class registers it with drf-spectacular; ``options`` are the extension's
    other attributes (``match_subclasses``, ``priority``).
    """

    def get_security_definition(self, auto_schema):
        return dict(definition)

    return type(
        f"{target_class.rsplit('.', 1)[-1]}Scheme",
        (OpenApiAuthenticationExtension,),
        {
            "target_class": target_class,
            "name": name,
            "get_security_definition": get_security_definition,
            **options,
        },
    )


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = ["ApiKeyHeader", "ApiKeyBearer"]

    def get_security_requirement(self, auto_schema):
        # Either header works: two alternatives, not both at once.
        return [{"ApiKeyHeader": []}, {"ApiKeyBearer": []}]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "X-API-Key",
                "description": "An organization API key (`hdk_...`).",
            },
            bearer(
                "The same organization API key as `Authorization: Bearer hdk_...`.",
                bearer_format="hdk_<lookup>.<secret>",
            ),
        ]


AgentTokenScheme = security_scheme(
    "accounts.authentication.AgentTokenAuthentication",
    "AgentToken",
    bearer(
        "An agent's personal API token, made on their profile page.", bearer_format="hda_<lookup>.<secret>"
    ),
)

# Any other bearer credential of ours (customer tokens and JWTs).
BearerScheme = security_scheme(
    "accounts.authentication.BearerAuthentication",
    "CustomerBearer",
    bearer("A customer credential: a customer token (`hdc_...`) or a JWT."),
    match_subclasses=True,
    priority=-1,
)


def strip_trailing_slashes(result, generator, request, public):
    """Document paths as they are meant to be called: without a trailing slash (one is
    tolerated), like the APIs our users come from."""
    result["paths"] = {
        (path.rstrip("/") if path != "/" else path): item for path, item in result["paths"].items()
    }
    return result


METHODS = ("get", "put", "post", "delete", "patch")


def statuses_answered(path: str, method: str, operation: dict, path_item: dict) -> set[int]:
    """Every status an operation can answer besides the ones its view names itself.

    Any operation: 401 (a credential is needed), 429 (throttled), 500, 503 (the database
    went away; ``helpdesk.problems``), and 405 when its path refuses some method (each face
    answers a refused method in its own shape). A body: 400, 413, 415. An
    ``Idempotency-Key`` header: 422. An id in the path: 404. Query parameters: 400. The
    native API also answers 403 (a credential of the wrong kind), 406 (an ``Accept`` header
    it cannot satisfy; the dialects answer JSON whatever is asked) and, on a list, 404 (a
    page past the end).
    """
    statuses = {429, 500, 503}
    if operation.get("security") != [{}]:
        statuses.add(401)
    if any(other not in path_item for other in METHODS):
        statuses.add(405)
    if "requestBody" in operation:
        statuses |= {400, 413, 415}
    parameters = operation.get("parameters", [])
    if any(
        parameter["in"] == "header" and parameter["name"] == "Idempotency-Key" for parameter in parameters
    ):
        statuses.add(422)
    if "{" in path:
        statuses.add(404)
    if any(parameter["in"] == "query" for parameter in parameters):
        statuses.add(400)
    if path.startswith("/api/"):
        statuses |= {403, 406}
        if any(parameter["in"] == "query" and parameter["name"] == "page" for parameter in parameters):
            statuses.add(404)  # a page past the end
    return statuses


def _template_error(responses: dict) -> dict | None:
    """The operation's own error response to copy: its shape is the face's error shape."""
    for code in ("400", "401", "404", "403", "429", "500"):
        if code in responses and "content" in responses[code]:
            return responses[code]
    return next(
        (response for code, response in responses.items() if code >= "400" and "content" in response), None
    )


def document_every_status(result, generator, request, public):
    """Adds to each operation the statuses of ``statuses_answered`` it does not list yet."""
    for path, path_item in result["paths"].items():
        for method in METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            responses = operation["responses"]
            template = _template_error(responses)
            if template is None:
                continue
            for code in sorted(statuses_answered(path, method, operation, path_item)):
                if str(code) in responses:
                    continue
                response = copy.deepcopy(template)
                response["description"] = STATUS_DESCRIPTIONS[code]
                if code in (429, 503):
                    response.setdefault("headers", {}).update(RETRY_AFTER_HEADER)
                responses[str(code)] = response
            operation["responses"] = dict(sorted(responses.items()))
    return result
