"""Receipts (认定依据) for the enterprise and staff, and the staff's recall list (补发 / 追回复核).

A receipt is resolved through portal.receipts.selectors.receipt_get_for_user: an enterprise's users see
their own, staff every one, anyone else a 404 (the same as a receipt that does not exist).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from matching.core.evaluator import Outcome
from portal.accounts.permissions import DECIDING_ROLES
from portal.accounts.roles import has_any_role, is_staff_user
from portal.api.exceptions import ApplicationError
from portal.enterprises import selectors as enterprise_selectors
from portal.recall import services as recall_services
from portal.recall.models import RecallItem
from portal.recall.selectors import recall_items_for_staff
from portal.receipts import selectors as receipt_selectors

from .console_views import staff_required
from .selectors import status_tabs

if TYPE_CHECKING:
    from portal.accounts.requests import AuthenticatedHttpRequest


def _outcome(explanation: dict[str, Any] | None) -> Outcome | None:
    return Outcome.from_dict(explanation) if explanation else None


@login_required
@require_GET
def receipt(request: AuthenticatedHttpRequest, receipt_id: int) -> HttpResponse:
    """One receipt, readable and printable (the browser's 打印 / 另存为 PDF)."""
    found = receipt_selectors.receipt_get_for_user(user=request.user, receipt_id=receipt_id)
    document = receipt_selectors.receipt_document(found)
    staff = is_staff_user(request.user)
    context = {
        "section": "console" if staff else "workspace",
        "receipt": found,
        "doc": document,
        "outcome": _outcome(found.explanation),
        "facts": sorted(document["facts"].items(), key=lambda kv: kv[1].get("label", kv[0])),
        "enterprise": found.enterprise,
    }
    return render(request, "frontend/receipts/receipt.html", context)


@login_required
@require_GET
def receipt_json(request: AuthenticatedHttpRequest, receipt_id: int) -> HttpResponse:
    """The receipt as a JSON file (with the rule, so its hash can be checked)."""
    found = receipt_selectors.receipt_get_for_user(user=request.user, receipt_id=receipt_id)
    body = json.dumps(receipt_selectors.receipt_document(found), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="receipt-{found.pk}.json"'
    return response


@login_required
@require_GET
def enterprise_receipts(request: AuthenticatedHttpRequest, credit_code: str) -> HttpResponse:
    """Every receipt of the enterprise, newest first (its users and staff; 404 for anyone else)."""
    enterprise = enterprise_selectors.enterprise_get_for_user(user=request.user, credit_code=credit_code)
    receipts = receipt_selectors.receipts_for_enterprise(enterprise=enterprise)
    context = {
        "section": "workspace",
        "tab": "receipts",
        "enterprise": enterprise,
        "receipts": receipts,
        "outcome_labels": receipt_selectors.OUTCOME_LABELS,
        "status_labels": receipt_selectors.STATUS_LABELS,
    }
    return render(request, "frontend/workspace/receipts.html", context)


@staff_required
@require_GET
def recall_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """补发 / 追回复核: past decisions that a corrected rule or fact now decides otherwise, side by side."""
    status, statuses = status_tabs(RecallItem, request.GET.get("status"), default=RecallItem.Status.PENDING)
    rows = [
        {
            "item": item,
            "old_outcome": _outcome(item.old_receipt.explanation) if item.old_receipt else None,
            "new_outcome": _outcome(item.new_explanation),
        }
        for item in recall_items_for_staff(user=request.user, status=status)[:200]
    ]
    context = {
        "section": "console",
        "rows": rows,
        "status": status,
        "statuses": statuses,
        "can_decide": has_any_role(request.user, *DECIDING_ROLES),
    }
    return render(request, "frontend/console/recall.html", context)


@staff_required
@require_POST
def recall_decide(request: AuthenticatedHttpRequest, item_id: int) -> HttpResponse:
    item = get_object_or_404(recall_items_for_staff(user=request.user), pk=item_id)
    decision = request.POST.get("decision", "")
    try:
        recall_services.recall_item_decide(
            item=item, by=request.user, decision=decision, reason=request.POST.get("reason", "")
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "已批准。" if decision == "approve" else "已驳回。")
    return redirect(f"{reverse('frontend:console_recall')}?status={RecallItem.Status.PENDING}")
