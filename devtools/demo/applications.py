"""Sample applications (示例) for the demo enterprise, so 我的申报 and the staff console are not empty.

Called by devtools.demo.accounts.load_demo after the demo logins exist. Idempotent: a policy version the
demo enterprise already applied for is left alone. Needs the catalogue (load_catalogue runs first in
`bootstrap`); without published 申报 policies it does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from portal.applications import requirements
from portal.applications.models import Application, ApplicationAttachment, ApplicationTransition

if TYPE_CHECKING:
    from portal.enterprises.models import Enterprise


DEMO_USER = "qiye_a"
DEMO_REVIEWER = "reviewer"
# (statuses after submission, staff note) per sample; every text says 示例.
PLANS: list[tuple[tuple[str, ...], str]] = [
    (("accepted",), "材料齐全，予以受理（示例）"),
    (("returned",), "示例：请补充加盖公章的材料扫描件后重新提交"),
]


def _sample_pdf(title: str) -> bytes:
    """A tiny valid PDF; its text is ASCII (the built-in PDF fonts have no Chinese glyphs)."""
    text = f"Sample attachment (demo only): {title.encode('ascii', 'ignore').decode() or 'policy'}"
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _candidate_versions(enterprise: Enterprise) -> list[Any]:
    """Published, in-effect 申报 versions with materials that the enterprise qualifies for (the evaluator
    decides now: at the first load_demo the re-match has not run yet); otherwise the first ones by key."""
    from matching.core.evaluator import Status, evaluate
    from policies.models import Mode
    from policies.selectors import published_versions_in_effect
    from portal.enterprises.selectors import enterprise_profile

    versions = list(
        published_versions_in_effect().filter(mode=Mode.APPLY).exclude(materials=[]).order_by("policy__key")
    )
    profile = enterprise_profile(enterprise=enterprise)
    today = timezone.localdate()
    fits = [v for v in versions if evaluate(v.rule, profile, on=today).status == Status.ELIGIBLE]
    return (fits or versions)[: len(PLANS)]


@transaction.atomic
def load_sample_applications(*, log: Callable[[str], None] = lambda _: None) -> int:
    """Create the sample applications that are missing; returns how many were created."""
    from portal.accounts.models import User

    user = User.objects.filter(username=DEMO_USER, enterprise__isnull=False).select_related("enterprise").first()
    if user is None:
        return 0
    enterprise = user.enterprise
    if enterprise is None:  # the demo user always belongs to the demo enterprise
        return 0
    if Application.objects.filter(enterprise=enterprise).exists():
        return 0  # samples made before, or the demo user applied already
    reviewer = User.objects.filter(username=DEMO_REVIEWER).first()
    created = 0
    now = timezone.now()
    for version, (steps, note) in zip(_candidate_versions(enterprise), PLANS, strict=False):
        application = Application.objects.create(
            enterprise=enterprise,
            policy_version=version,
            status=steps[-1],
            contact_name="王晓（示例）",
            contact_phone="0512-66668888",
            statement=f"示例申报：申请“{version.title}”（演示数据，非真实申报）。",
            staff_note=note if steps[-1] in ("returned", "rejected") else "",
            submitted_by=user,
            submitted_at=now,
        )
        ApplicationTransition.objects.create(
            application=application,
            from_status="",
            to_status="submitted",
            by=user,
            note="企业在线提交申报（示例）",
            at=now,
        )
        previous = "submitted"
        for step in steps:
            ApplicationTransition.objects.create(
                application=application, from_status=previous, to_status=step, by=reviewer, note=note, at=now
            )
            previous = step
        for material in requirements.materials_of(version):
            if material.needs_upload:
                attachment = ApplicationAttachment(
                    application=application,
                    material=material.name,
                    original_name=f"{material.name[:40]}（示例）.pdf",
                    content_type="application/pdf",
                    uploaded_by=user,
                    uploaded_at=now,
                )
                data = _sample_pdf(version.policy.key)
                attachment.size = len(data)
                attachment.file.save("sample.pdf", ContentFile(data), save=False)
                attachment.save()
        created += 1
    if created:
        log(f"示例申报 {created} 件（{enterprise.name}，演示数据）。")
    return created
