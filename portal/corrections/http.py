"""The one way an evidence file leaves the server: streamed by a view that has checked the user's scope."""

from __future__ import annotations

from django.http import FileResponse, Http404

from portal.audit.services import audit_record

from .models import CorrectionEvidence


def evidence_response(evidence: CorrectionEvidence) -> FileResponse:
    try:
        handle = evidence.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("文件不存在") from None
    response = FileResponse(
        handle, as_attachment=True, filename=evidence.original_name, content_type=evidence.content_type
    )
    audit_record(
        action="correctionevidence.downloaded",
        obj=evidence,
        label=f"证明材料（数据纠错 #{evidence.request_id}，文件 #{evidence.pk}）",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
