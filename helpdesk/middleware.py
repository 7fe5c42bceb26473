import re
import secrets

_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")


class RequestIDMiddleware:
    """Give every request an id, echo it as X-Request-ID, and let error bodies quote it.

    A caller's own X-Request-ID is kept when it looks like an id, so a trace can follow a
    request from the integrator's logs into ours.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = (
            incoming if _ACCEPTABLE_REQUEST_ID.match(incoming) else f"req_{secrets.token_hex(12)}"
        )
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response
