"""The one way an uploaded file leaves the server: streamed by a view that has checked the user's scope.

Used for 申报 materials and for 数据纠错 evidence (portal.corrections.http).
"""

from __future__ import annotations

from django.db import models
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404

from portal.audit.services import audit_record

from .models import ApplicationAttachment


def uploaded_file_response(
    *, file: FieldFile, filename: str, content_type: str, obj: models.Model, action: str, label: str
) -> FileResponse:
    """Stream an uploaded file as an attachment, and record who downloaded it (等保: access to personal data).

    `label` names the file in the audit trail without its uploaded name: names like 王小明身份证.pdf are
    personal data, and the auditor reading the log is not a role that may see them."""
    try:
        handle = file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("文件不存在") from None
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    audit_record(action=action, obj=obj, label=label)
    # Never let a browser render an uploaded file inline as something else.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def attachment_response(attachment: ApplicationAttachment) -> FileResponse:
    return uploaded_file_response(
        file=attachment.file,
        filename=attachment.original_name,
        content_type=attachment.content_type,
        obj=attachment,
        action="applicationattachment.downloaded",
        label=f"{attachment.material}（申报 #{attachment.application_id}，材料 #{attachment.pk}）",
    )
