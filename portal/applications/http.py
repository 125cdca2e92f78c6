"""The one way an attachment leaves the server: streamed by a view that has checked the user's scope."""

from __future__ import annotations

from django.http import FileResponse, Http404

from portal.audit.services import audit_record

from .models import ApplicationAttachment


def attachment_response(attachment: ApplicationAttachment) -> FileResponse:
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("文件不存在") from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    # Who downloaded an applicant's material, when and from where (等保: access to personal data).

    audit_record(
        action="applicationattachment.downloaded",
        obj=attachment,
        # The material, not the uploaded file name: names like 王小明身份证.pdf are personal data, and the
        # auditor reading this log is not a role that may see them (selectors.DECIDING_ROLES).
        label=f"{attachment.material}（申报 #{attachment.application_id}，材料 #{attachment.pk}）",
    )
    # Never let a browser render an uploaded file inline as something else.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
