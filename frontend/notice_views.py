"""决定通知书: the enterprise's notices in its workspace, every notice in the console, each as a printable
page and a PDF. Anyone who may not see the notice (another enterprise's user, a signed-out visitor, an
enterprise user on a console address) gets 404 and learns nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from portal.accounts.roles import is_staff_user
from portal.enterprises import selectors as enterprise_selectors
from portal.notices.models import DecisionNotice
from portal.notices.selectors import notice_get, notices_for_enterprise, notices_for_user

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedHttpRequest

# CJK fonts WeasyPrint finds through fontconfig (Debian fonts-noto-cjk; wqy as a fallback).
PDF_FONTS = '"Noto Serif CJK SC", "Noto Sans CJK SC", "WenQuanYi Zen Hei", serif'


def _document_context(request: HttpRequest, notice: DecisionNotice) -> dict[str, Any]:
    return {
        "notice": notice,
        # Printed and PDF copies carry full addresses: a link on paper must be typed.
        "site": request.build_absolute_uri("/").rstrip("/"),
    }


def notice_pdf_bytes(notice: DecisionNotice, site: str) -> bytes:
    """The notice as a PDF (WeasyPrint: HTML and CSS, fonts through fontconfig, text kept as text)."""
    from weasyprint import HTML  # imported when a PDF is asked for: it loads pango and the fonts

    html = render_to_string(
        "frontend/notices/pdf.html", {"notice": notice, "site": site, "fonts": PDF_FONTS, "pdf": True}
    )
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None  # write_pdf without a target returns the bytes
    return bytes(pdf)


def _pdf_response(request: HttpRequest, notice: DecisionNotice) -> HttpResponse:
    pdf = notice_pdf_bytes(notice, request.build_absolute_uri("/").rstrip("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{notice.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- The enterprise's workspace (staff may open it too, as every workspace page) --------------------


def _own(request: AuthenticatedHttpRequest, credit_code: str, number: str) -> DecisionNotice:
    enterprise = enterprise_selectors.enterprise_get_for_user(user=request.user, credit_code=credit_code)
    notice = notice_get(user=request.user, number=number)
    if notice is None or notice.enterprise_id != enterprise.pk:
        raise Http404("未找到该通知书")
    return notice


@login_required
@require_GET
def enterprise_notices(request: AuthenticatedHttpRequest, credit_code: str) -> HttpResponse:
    enterprise = enterprise_selectors.enterprise_get_for_user(user=request.user, credit_code=credit_code)
    notices = notices_for_enterprise(user=request.user, enterprise_id=enterprise.pk)[:200]
    return render(
        request,
        "frontend/notices/enterprise_list.html",
        {"enterprise": enterprise, "tab": "notices", "section": "workspace", "notices": notices},
    )


@login_required
@require_GET
def enterprise_notice(request: AuthenticatedHttpRequest, credit_code: str, number: str) -> HttpResponse:
    notice = _own(request, credit_code, number)
    context = _document_context(request, notice)
    context.update(enterprise=notice.enterprise, tab="notices", section="workspace")
    return render(request, "frontend/notices/detail.html", context)


@login_required
@require_GET
def enterprise_notice_pdf(request: AuthenticatedHttpRequest, credit_code: str, number: str) -> HttpResponse:
    return _pdf_response(request, _own(request, credit_code, number))


# --- The console --------------------------------------------------------------------------------------


def _staff(request: HttpRequest) -> None:
    """Console notice pages: staff only; anyone else gets 404 (the address says nothing about a notice)."""
    if not is_staff_user(request.user):
        raise Http404("未找到该通知书")


def _staff_notice(request: HttpRequest, number: str) -> DecisionNotice:
    _staff(request)
    notice = notice_get(user=request.user, number=number)
    if notice is None:
        raise Http404("未找到该通知书")
    return notice


@require_GET
def console_notices(request: HttpRequest) -> HttpResponse:
    _staff(request)
    query = (request.GET.get("q") or "").strip()[:100]
    kind = request.GET.get("kind") or ""
    notices = notices_for_user(user=request.user).order_by("-issued_at", "-id")
    if query:
        notices = notices.filter(
            Q(number__iexact=query) | Q(enterprise_name__icontains=query) | Q(credit_code__iexact=query.upper())
        )
    if kind in DecisionNotice.Kind.values:
        notices = notices.filter(kind=kind)
    else:
        kind = ""
    return render(
        request,
        "frontend/notices/console_list.html",
        {
            "section": "console",
            "notices": notices[:200],
            "q": query,
            "kind": kind,
            "kinds": DecisionNotice.Kind.choices,
        },
    )


@require_GET
def console_notice(request: HttpRequest, number: str) -> HttpResponse:
    notice = _staff_notice(request, number)
    context = _document_context(request, notice)
    context.update(section="console")
    return render(request, "frontend/notices/console_detail.html", context)


@require_GET
def console_notice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    return _pdf_response(request, _staff_notice(request, number))
