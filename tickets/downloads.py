"""Attachments leave the server one way: as a download through an authenticated view.

The dashboard (agents of the ticket's organization), the portal (the ticket's private
link, public replies only) and admin (staff) each decide who may fetch a file, then answer
with ``attachment_download``. Nothing serves ``MEDIA_ROOT`` (or the bucket) directly, not
even under ``DEBUG``: an uploaded ``.html`` opened inline would run in our origin, and a
``.js`` served as ``text/javascript`` would satisfy ``script-src 'self'``.
"""

from django.http import FileResponse, Http404
from django.utils.cache import patch_cache_control

from .models import Attachment

# The file is never a document of ours: no script, no plugin, no form, no same origin.
SANDBOX_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'"


def attachment_download(attachment: Attachment) -> FileResponse:
    """The file, read through Django's storage API, as a download that cannot run."""
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError) as error:
        raise Http404("The file is missing from storage.") from error
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.filename, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_POLICY
    patch_cache_control(response, private=True, no_store=True)
    return response
