"""Let inbound email webhooks carry real emails.

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

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse, QueryDict
from django.utils.datastructures import MultiValueDict

from helpdesk.parsers import MAX_JSON_DEPTH, nesting_depth

from .inbound import MALFORMED_PAYLOAD_ERRORS

logger = logging.getLogger("tickets.mail")


def _is_inbound_webhook(request) -> bool:
    path = request.path_info
    return request.method == "POST" and path.startswith("/anymail/") and path.endswith("/inbound/")


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
        handler's errors arrive as InboundHandlingError and stay 500s."""
        if not (_is_inbound_webhook(request) and isinstance(exception, MALFORMED_PAYLOAD_ERRORS)):
            return None
        # Logged with the traceback: a provider changing its format must not go unnoticed.
        logger.error("Malformed inbound email payload at %s", request.path, exc_info=exception)
        return HttpResponse("Malformed inbound email payload.", status=400, content_type="text/plain")
