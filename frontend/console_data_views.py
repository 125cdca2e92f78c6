"""Staff console: department data uploads (部门数据上传) with progress and error report, and the dashboard.

Any staff role may look; only data officers (数据专员) upload. Enterprise users are refused (403), like
everywhere in the console.
"""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from portal.accounts.roles import Role, has_role
from portal.api.exceptions import ApplicationError
from portal.api.spreadsheets import safe_cell
from portal.corrections import selectors as correction_selectors
from portal.enterprises import services
from portal.enterprises.selectors import feed_import_get, feed_imports_for_staff, feed_upload_message
from portal.ops.funnel import funnel_for_staff

from .console_views import staff_required
from .forms import FeedFileForm
from .insight_views import funnel_charts
from .selectors import console_dashboard

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedHttpRequest


REPORT_ON_PAGE = 500  # error-report lines shown on the page; the CSV download has them all


@staff_required
@require_http_methods(["GET", "POST"])
def feeds(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Recent imports from every channel, and the upload form for data officers."""
    can_upload = has_role(request.user, Role.DATA_OFFICER)
    form = FeedFileForm(request.POST or None, request.FILES or None) if can_upload else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("只有数据专员可以上传部门数据")
        if form.is_valid():
            try:
                feed_import = services.feed_upload_create(
                    by=request.user,
                    source=form.cleaned_data["source"],
                    file=form.cleaned_data["file"],
                    default_as_of=form.cleaned_data["as_of"],
                )
            except ApplicationError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, feed_upload_message(import_id=feed_import.pk))
                return redirect("frontend:console_feed", import_id=feed_import.pk)
    context = {
        "section": "console",
        "form": form,
        "can_upload": can_upload,
        "rows": feed_imports_for_staff(user=request.user)[:50],
    }
    return render(request, "frontend/console/feeds.html", context)


@staff_required
@require_GET
def feed_detail(request: AuthenticatedHttpRequest, import_id: int) -> HttpResponse:
    """One import: a progress bar while it runs (polled by htmx), then the counts and the error report."""
    feed_import = feed_import_get(user=request.user, import_id=import_id)
    context: dict[str, Any] = {
        "fi": feed_import,
        "report": feed_import.report[:REPORT_ON_PAGE] if feed_import.is_finished else [],
        "report_limit": REPORT_ON_PAGE,
    }
    if request.htmx:
        return render(request, "frontend/console/feed_status.html", context)
    return render(request, "frontend/console/feed_detail.html", {**context, "section": "console"})


@staff_required
@require_GET
def feed_report_csv(request: AuthenticatedHttpRequest, import_id: int) -> HttpResponse:
    """The whole per-record error report as CSV (UTF-8 with BOM, so spreadsheet programs read Chinese)."""
    feed_import = feed_import_get(user=request.user, import_id=import_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="feed-{feed_import.pk}-errors.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(["行号", "统一社会信用代码", "字段", "字段名称", "错误代码", "说明"])
    for line in feed_import.report:
        # The credit code and message echo what the department sent: neutralise formulas.
        writer.writerow(
            [
                safe_cell(value)
                for value in (
                    line["row"],
                    line["credit_code"],
                    line["field"],
                    line.get("field_label", ""),
                    line["code"],
                    line["message"],
                )
            ]
        )
    return response


@staff_required
@require_GET
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """数据看板: policies, matching activity, chains and zones, delivery success; charts with data tables."""
    context: dict[str, Any] = {
        "section": "console",
        "d": console_dashboard(),
        "funnel": funnel_charts(funnel_for_staff(user=request.user)),
    }
    if correction_selectors.departments_of(user=request.user) != []:
        # 数据纠错 past their due date in the queues this user works (count and the oldest first).
        overdue = correction_selectors.overdue_for_staff(user=request.user).order_by("due_on", "id")
        context["corrections_overdue"] = {"count": overdue.count(), "rows": list(overdue[:20])}
    return render(request, "frontend/console/dashboard.html", context)
