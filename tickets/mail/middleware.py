"""Guard the provider webhooks, and let inbound email webhooks carry real emails.

Every POST under ``/anymail/`` (inbound email and delivery tracking alike) must carry the
basic-auth credentials of ``ANYMAIL_WEBHOOK_SECRET`` — checked here, before a byte of the
body is read, so an unauthenticated post costs neither memory nor parsing. Only an
explicit ``INBOUND_EMAIL_WEBHOOK_OPEN=1`` lets posts in without them (for a provider that
signs its payloads and cannot send basic auth; anymail then checks that signature), and
``check --deploy`` reports it. A provider signature anymail rejects is a 401 too.

``DATA_UPLOAD_MAX_MEMORY_SIZE`` (1 MB by default) keeps API requests small, but providers
post a whole email — attachments included — as one form field (SendGrid's raw MIME
``email``) or one JSON body (Postmark's base64 ``Attachments``). For the inbound webhook
paths only, this middleware reads the body itself under ``INBOUND_EMAIL_MAX_BYTES``
(answering 413 above it) and parses a multipart form with the standard library's MIME
parser, so Django's per-field memory limit does not turn a 2 MB screenshot into a 400 and
a lost email.
"""

import logging
from email.parser import BytesParser
from email.policy import HTTP

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.utils import get_request_basic_auth
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse, QueryDict
from django.utils.crypto import constant_time_compare
from django.utils.datastructures import MultiValueDict

from helpdesk.parsers import MAX_JSON_DEPTH, nesting_depth

from .inbound import MALFORMED_PAYLOAD_ERRORS

logger = logging.getLogger("tickets.mail")


def _is_provider_webhook(request) -> bool:
    return request.method == "POST" and request.path_info.startswith("/anymail/")


def _is_inbound_webhook(request) -> bool:
    # Mailgun posts whole MIME messages to .../mailgun/inbound_mime/.
    path = request.path_info
    return _is_provider_webhook(request) and path.endswith(("/inbound/", "/inbound_mime/"))


def webhook_secrets() -> list[str]:
    secrets = (getattr(settings, "ANYMAIL", None) or {}).get("WEBHOOK_SECRET") or []
    return [secrets] if isinstance(secrets, str) else [secret for secret in secrets if secret]


def has_webhook_credentials(request) -> bool:
    """The post carries one of the configured ``user:password`` pairs (or the operator
    opened the webhooks on purpose)."""
    if settings.INBOUND_EMAIL_WEBHOOK_OPEN:
        return True
    given = get_request_basic_auth(request)
    # Every configured pair is compared, so the time taken says nothing about which matched.
    matches = [constant_time_compare(given or "", secret) for secret in webhook_secrets()]
    return given is not None and any(matches)


def _unauthorized() -> HttpResponse:
    response = HttpResponse("Webhook credentials missing or wrong.", status=401, content_type="text/plain")
    response["WWW-Authenticate"] = 'Basic realm="email webhooks", charset="UTF-8"'
    return response


def parse_multipart(content_type: str, body: bytes, encoding: str) -> tuple[QueryDict, MultiValueDict]:
    header = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
    form = BytesParser(policy=HTTP).parsebytes(header + body)
    post = QueryDict(mutable=True, encoding=encoding)
    files = MultiValueDict()
    for part in form.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        content = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files.appendlist(name, SimpleUploadedFile(filename, content, part.get_content_type()))
        else:
            post.appendlist(name, content.decode(part.get_content_charset() or encoding, errors="replace"))
    post._mutable = False
    return post, files


def _too_deep(body: bytes) -> bool:
    return nesting_depth(body.decode("utf-8", errors="replace")) > MAX_JSON_DEPTH


class InboundEmailBodyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _is_provider_webhook(request) and not has_webhook_credentials(request):
            logger.warning("Provider webhook post without valid credentials refused at %s", request.path)
            return _unauthorized()
        if _is_inbound_webhook(request):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.INBOUND_EMAIL_MAX_BYTES:
                return HttpResponse("Email too large.", status=413, content_type="text/plain")
            body = request.read(settings.INBOUND_EMAIL_MAX_BYTES + 1)
            if len(body) > settings.INBOUND_EMAIL_MAX_BYTES:
                return HttpResponse("Email too large.", status=413, content_type="text/plain")
            request._body = body
            if request.content_type == "application/json" and _too_deep(body):
                # Postmark posts JSON that anymail decodes recursively: measured first.
                logger.error("Inbound email payload nested too deeply at %s", request.path)
                return HttpResponse("Malformed inbound email payload.", status=400, content_type="text/plain")
            if request.content_type == "multipart/form-data":
                request._post, request._files = parse_multipart(
                    request.META["CONTENT_TYPE"], body, request.encoding or settings.DEFAULT_CHARSET
                )
        return self.get_response(request)

    def process_exception(self, request, exception):
        """A malformed provider payload is the sender's error (400), not ours (500); our own
        handler's errors arrive as InboundHandlingError and stay 500s. A provider signature
        that does not verify (Mailgun's, Postal's, ...) is a credential failure: 401."""
        if _is_provider_webhook(request) and isinstance(exception, AnymailWebhookValidationFailure):
            logger.warning("Provider webhook signature refused at %s: %s", request.path, exception)
            return _unauthorized()
        if not (_is_inbound_webhook(request) and isinstance(exception, MALFORMED_PAYLOAD_ERRORS)):
            return None
        # Logged with the traceback: a provider changing its format must not go unnoticed.
        logger.error("Malformed inbound email payload at %s", request.path, exc_info=exception)
        return HttpResponse("Malformed inbound email payload.", status=400, content_type="text/plain")
