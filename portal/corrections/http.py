"""The one way an evidence file leaves the server: streamed by a view that has checked the user's scope."""

from __future__ import annotations

from django.http import FileResponse

from portal.applications.http import uploaded_file_response

from .models import CorrectionEvidence


def evidence_response(evidence: CorrectionEvidence) -> FileResponse:
    return uploaded_file_response(
        file=evidence.file,
        filename=evidence.original_name,
        content_type=evidence.content_type,
        obj=evidence,
        action="correctionevidence.downloaded",
        label=f"证明材料（数据纠错 #{evidence.request_id}，文件 #{evidence.pk}）",
    )
