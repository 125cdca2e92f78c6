"""XLSX and CSV export of the public list, with the list's filters."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions():
    return [
        PolicyVersionFactory(
            published=True, title="免申政策", mode="exempt", amount_max_wan=50, amount_note="示例金额"
        ),
        PolicyVersionFactory(published=True, title="=申报政策", mode="apply"),  # looks like a formula
        PolicyVersionFactory(title="草稿不导出"),
    ]


def test_xlsx_export_opens_and_lists_the_filtered_policies(versions):
    response = APIClient().get("/api/v1/policies/export.xlsx?mode=exempt")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:4] == ("政策编号", "政策名称", "惠企类型", "兑现方式")
    assert [row[1] for row in rows[1:]] == ["免申政策"]
    record = dict(zip(header, rows[1], strict=True))
    assert record["兑现方式"] == "免申即享" and record["最高金额（万元）"] == 50 and record["金额说明"] == "示例金额"


def test_xlsx_keeps_text_that_looks_like_a_formula_as_text(versions):
    response = APIClient().get("/api/v1/policies/export.xlsx?mode=apply")

    cell = load_workbook(io.BytesIO(response.content)).active["B2"]
    assert cell.value == "=申报政策" and cell.data_type == "s"


def test_csv_export_parses_and_defuses_formulas(versions):
    response = APIClient().get("/api/v1/policies/export.csv")

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][1] == "政策名称"
    assert sorted(row[1] for row in rows[1:]) == ["'=申报政策", "免申政策"]


def test_export_rejects_bad_filters():
    assert APIClient().get("/api/v1/policies/export.csv?size=giant").status_code == 400
