"""The one way an attachment leaves the server: streamed by a view that has checked the user's scope."""

from __future__ import annotations

from django.http import FileResponse, Http404

from .models import ApplicationAttachment


def attachment_response(attachment: ApplicationAttachment) -> FileResponse:
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("文件不存在") from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    # Never let a browser render an uploaded file inline as something else.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
