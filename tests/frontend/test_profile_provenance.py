"""The profile's facts: every row tagged by its own provenance, department data dated as the department gave it,
qualifications shown expired with their end date, and the enterprise's own qualifications editable."""

from __future__ import annotations

from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from portal.accounts.services import api_key_create
from portal.enterprises import services
from portal.enterprises.models import FACT_FIELDS, Enterprise, EnterpriseChange, Qualification, Site
from tests.enterprises.factories import EnterpriseFactory, EnterpriseUserFactory, QualificationFactory, SiteFactory
from tests.enterprises.support import feed_batch_post, seed_places
from tests.enterprises.test_feed_import import csv_bytes

pytestmark = pytest.mark.django_db


class _Rows(HTMLParser):
    """Table rows of a page as lists of cell texts (th and td)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rows(html: str) -> dict[str, list[str]]:
    parser = _Rows()
    parser.feed(html)
    return {r[0]: r[1:] for r in parser.rows if r}


def profile(client, enterprise: Enterprise) -> dict[str, list[str]]:
    response = client.get(f"/enterprises/{enterprise.credit_code}/profile/")
    assert response.status_code == 200
    return rows(response.content.decode())


def test_every_fact_row_is_tagged_by_its_own_provenance(client) -> None:
    enterprise = EnterpriseFactory(rd_expense_ratio=None, dishonest=None)
    provenance = dict(enterprise.provenance)
    provenance["employees"] = {"source": "self_declared", "as_of": "2026-03-01"}
    provenance.pop("rd_expense_ratio", None)
    Enterprise.objects.filter(pk=enterprise.pk).update(provenance=provenance)
    enterprise.refresh_from_db()
    user = EnterpriseUserFactory(enterprise=enterprise)
    client.force_login(user)

    table = profile(client, enterprise)

    for key in ("name", *FACT_FIELDS):
        label = str(Enterprise._meta.get_field(key).verbose_name)
        _value, tag, day = table[label][:3]
        entry = enterprise.provenance.get(key)
        if entry is None or getattr(enterprise, key) is None:
            assert tag == "未填报", label
        elif entry["source"] == "self_declared":
            # The tag, then (申请核验) the departments that would verify it.
            assert tag == "自行填报" or tag.startswith("自行填报 核验部门："), label
            assert day == entry["as_of"], label
        else:
            assert tag.startswith("已核验"), label
            assert day == entry["as_of"], label
    # The size is computed from 从业人员 (self-declared) and 营业收入 (统计局): not verified.
    assert table["企业规模"][1].startswith("自行填报")


def test_a_size_computed_from_department_data_only_is_verified(client) -> None:
    enterprise = EnterpriseFactory()
    client.force_login(EnterpriseUserFactory(enterprise=enterprise))
    size = profile(client, enterprise)["企业规模"]
    assert size[1].startswith("已核验") and "统计局" in size[1]


def test_a_department_upload_is_dated_as_its_data_not_as_the_upload_day(
    client, staff_data_officer, settings, tmp_path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    a, b, c = EnterpriseFactory(), EnterpriseFactory(), EnterpriseFactory()
    today = timezone.localdate()
    in_file, in_form, in_api = today - timedelta(days=40), today - timedelta(days=20), today - timedelta(days=10)
    # A console upload: the file's 数据日期 column (written the Chinese way) for a, the form's date for b.
    rows_ = [
        ["统一社会信用代码", "数据日期", "从业人员"],
        [a.credit_code, f"{in_file.year}年{in_file.month}月{in_file.day}日", "301"],
        [b.credit_code, "", "302"],
    ]
    fi = services.feed_upload_create(
        by=staff_data_officer,
        source="statistics",
        file=SimpleUploadedFile("统计局.csv", csv_bytes(rows_)),
        default_as_of=in_form,
    )
    services.feed_upload_process(feed_import=services.feed_upload_claim(import_id=fi.pk))
    # The API: the batch's as_of for c.
    key = api_key_create(name="统计局数据接口", source="statistics")[1]
    response = feed_batch_post(
        "statistics", [{"credit_code": c.credit_code, "employees": 303}], key, as_of=in_api.isoformat()
    )
    assert response.json()["accepted_count"] == 1, response.json()

    for enterprise, expected in ((a, in_file), (b, in_form), (c, in_api)):
        client.force_login(EnterpriseUserFactory(enterprise=enterprise))
        row = profile(client, enterprise)["从业人员（人）"]
        assert row[0].startswith("30") and row[1].startswith("已核验") and row[2] == expected.isoformat()
        assert today.isoformat() not in row[2]


def test_a_bad_batch_date_is_refused_with_its_field(db) -> None:
    key = api_key_create(name="统计局数据接口", source="statistics")[1]
    response = APIClient().post(
        "/api/v1/feeds/statistics/records/",
        {"as_of": "2999-01-01", "records": []},
        format="json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"][0]["field"] == "as_of"


def test_an_expired_qualification_is_shown_expired_with_its_end_date(client) -> None:
    enterprise = EnterpriseFactory()
    ended = timezone.localdate() - timedelta(days=3)
    QualificationFactory(enterprise=enterprise, kind="tech_sme", valid_from=date(2023, 1, 1), valid_to=ended)
    QualificationFactory(enterprise=enterprise, kind="high_tech")
    client.force_login(EnterpriseUserFactory(enterprise=enterprise))
    table = profile(client, enterprise)
    expired = next(cells for label, cells in table.items() if label.startswith("科技型中小企业"))
    current = next(cells for label, cells in table.items() if label.startswith("高新技术企业"))
    assert expired[1] == f"已过期 {ended.isoformat()}到期"
    assert current[1] == "有效"


def test_the_enterprise_edits_and_withdraws_its_own_qualification_only(client) -> None:
    enterprise = EnterpriseFactory()
    own = QualificationFactory(enterprise=enterprise, kind="gazelle", source="self_declared", certificate_no="")
    verified = QualificationFactory(enterprise=enterprise, kind="high_tech")
    client.force_login(EnterpriseUserFactory(enterprise=enterprise))
    base = f"/enterprises/{enterprise.credit_code}/qualifications"

    html = client.get(f"/enterprises/{enterprise.credit_code}/profile/").content.decode()
    assert f"{base}/{own.pk}/edit/" in html and f"{base}/{verified.pk}/edit/" not in html

    response = client.post(
        f"{base}/{own.pk}/edit/", {f"q{own.pk}-valid_from": "2025-01-01", f"q{own.pk}-valid_to": "2024-01-01"}
    )
    assert response.status_code == 200 and "有效期止不能早于有效期起" in response.content.decode()
    response = client.post(
        f"{base}/{own.pk}/edit/", {f"q{own.pk}-valid_from": "2025-01-01", f"q{own.pk}-valid_to": "2027-12-31"}
    )
    assert response.status_code == 302
    own.refresh_from_db()
    assert (own.valid_from, own.valid_to) == (date(2025, 1, 1), date(2027, 12, 31))

    response = client.post(f"{base}/{verified.pk}/withdraw/")
    assert Qualification.objects.filter(pk=verified.pk).exists()
    assert "不能自行删除" in client.get(response.url).content.decode()
    client.post(f"{base}/{own.pk}/withdraw/")
    assert not Qualification.objects.filter(pk=own.pk).exists()


def test_a_stranger_cannot_touch_another_enterprises_qualifications_or_sites(client, alice, charlie) -> None:
    seed_places()
    q = QualificationFactory(enterprise=alice.enterprise, source="self_declared")
    site = SiteFactory(enterprise=alice.enterprise)
    before = (Qualification.objects.get(pk=q.pk).valid_from, EnterpriseChange.objects.count())
    client.force_login(charlie)
    for enterprise in (alice.enterprise, charlie.enterprise):
        base = f"/enterprises/{enterprise.credit_code}"
        assert (
            client.post(f"{base}/qualifications/{q.pk}/edit/", {f"q{q.pk}-valid_from": "2020-01-01"}).status_code == 404
        )
        assert client.post(f"{base}/qualifications/{q.pk}/withdraw/").status_code == 404
        assert client.post(f"{base}/sites/{site.pk}/withdraw/").status_code == 404
    assert (Qualification.objects.get(pk=q.pk).valid_from, EnterpriseChange.objects.count()) == before
    assert Site.objects.filter(pk=site.pk).exists()
