"""Files that come with inbound messages: stored beside the message, served only as downloads.

A file is never rendered by the desk's origin: the response is always
``Content-Disposition: attachment`` with ``X-Content-Type-Options: nosniff`` and a sandboxing
CSP, and a type that a browser would execute (HTML, SVG, XML, script) is sent as
``application/octet-stream``. Only desk users who may read the ticket's messages can download.
"""

import re
import unicodedata

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from supportdesk.access import permission_required

from .models import Attachment, Message

SAFE_INLINE_TYPES = re.compile(r"^(image/(png|jpeg|gif|webp)|application/pdf|text/plain|text/csv)$")
_UNSAFE_FILENAME = re.compile(r"[^\w.\- ()\[\]+,@]+")


def filename_clean(name: str) -> str:
    """A file name safe to store and to put in a header: no path, no control characters."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME.sub("_", name).strip(" .")
    return (name or "attachment")[:200]


def download_content_type(content_type: str) -> str:
    content_type = (content_type or "").split(";", 1)[0].strip().lower()
    return content_type if SAFE_INLINE_TYPES.match(content_type) else "application/octet-stream"


@transaction.atomic
def attachment_store(*, message: Message, filename: str, content_type: str, data: bytes) -> Attachment | None:
    """Store one file of ``message``; a file over ``DESK_ATTACHMENT_MAX_BYTES`` is skipped (returns None)."""
    if len(data) > settings.DESK_ATTACHMENT_MAX_BYTES:
        return None
    clean = filename_clean(filename)
    attachment = Attachment(
        message=message,
        filename=clean,
        content_type=(content_type or "application/octet-stream")[:100],
        size=len(data),
    )
    attachment.file.save(clean, ContentFile(data), save=False)
    attachment.save()
    return attachment


@require_GET
@permission_required("tickets.view_ticket", "tickets.view_message")
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    attachment = Attachment.objects.filter(pk=attachment_id).select_related("message").first()
    if attachment is None:
        raise Http404("No such attachment.")
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("The file is no longer stored.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type=download_content_type(attachment.content_type),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response
