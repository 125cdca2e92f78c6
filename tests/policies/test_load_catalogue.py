"""`manage.py load_catalogue`: idempotent, keyed by `key`, all or nothing, every rule and golden case checked."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from policies import services
from policies.loader import SYSTEM_USERNAME
from policies.models import GoldenCase, Policy, PolicyTransition, PolicyVersion

pytestmark = pytest.mark.django_db

Status = PolicyVersion.Status

ENTRIES: list[dict[str, Any]] = [
    {
        "key": "software-rd-subsidy",
        "title": "软件企业研发补贴（示例）",
        "summary": "高新技术软件企业可获研发补贴。",
        "body": "背景。\n\n条件。",
        "source_section": "第三章 二（一）",
        "source_quote": "示例原文。",
        "department": "区科技局",
        "contact_name": "王敏（示例）",
        "contact_phone": "0512-0000-0000（示例）",
        "benefit_kind": "subsidy",
        "benefit_description": "研发费用补贴",
        "amount_max_wan": 50,
        "amount_note": "示例金额，以正式文件为准",
        "mode": "apply",
        "application": {
            "window_start": "2026-03-01",
            "window_end": "2026-05-31",
            "conditions_text": "高新技术企业",
            "materials": ["营业执照", "高新技术企业证书"],
        },
        "effective_from": "2026-01-01",
        "effective_to": "2027-12-31",
        "chains": ["ngit"],
        "rule": {
            "all": [
                {"fact": "industry", "op": "under", "value": ["65"]},
                {"fact": "qualification", "op": "has", "value": "high_tech"},
            ]
        },
        "golden_cases": [
            {
                "name": "高新技术软件企业（示例）",
                "expected": "eligible",
                "profile": {
                    "industry_code": "6520",
                    "qualifications": [{"kind": "high_tech", "valid_from": "2024-01-01", "valid_to": "2030-12-31"}],
                    "sources": "department",
                },
            },
            {"name": "制造企业（示例）", "expected": "ineligible", "profile": {"industry_code": "3311"}},
        ],
    },
    {
        "key": "credit-a-fast-track",
        "title": "纳税信用A级企业绿色通道（示例）",
        "summary": "A级纳税人免申即享办税绿色通道。",
        "body": "正文。",
        "source_section": "第十章 三（六）",
        "source_quote": "示例原文。",
        "department": "区税务局",
        "contact_name": "李强（示例）",
        "contact_phone": "0512-0000-0001（示例）",
        "benefit_kind": "service",
        "benefit_description": "绿色通道",
        "amount_max_wan": None,
        "amount_note": "",
        "mode": "exempt",
        "application": None,
        "effective_from": "2026-01-01",
        "effective_to": None,
        "chains": [],
        "rule": {"all": [{"fact": "tax_credit_rating", "op": "in", "value": ["A"]}]},
        "golden_cases": [
            {
                "name": "A级（示例）",
                "expected": "eligible",
                "profile": {"tax_credit_rating": "A", "sources": "department"},
            },
            {"name": "未知等级（示例）", "expected": "needs_info", "profile": {}},
        ],
    },
]


def write(tmp_path: Path, entries: list[dict[str, Any]], name: str = "policies.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    return path


def load(path: Path) -> str:
    out = io.StringIO()
    call_command("load_catalogue", "--file", str(path), stdout=out)
    return out.getvalue()


def counts() -> tuple[int, int, int, int]:
    return (
        Policy.objects.count(),
        PolicyVersion.objects.count(),
        GoldenCase.objects.count(),
        PolicyTransition.objects.count(),
    )


def test_it_loads_published_versions_by_a_system_user(tmp_path):
    output = load(write(tmp_path, ENTRIES))

    assert "新增 2 项" in output
    version = PolicyVersion.objects.get(policy__key="software-rd-subsidy")
    assert version.status == Status.PUBLISHED and version.number == 1
    assert version.author.username == SYSTEM_USERNAME and not version.author.is_active
    assert version.application_end.isoformat() == "2026-05-31"
    assert version.materials == ["营业执照", "高新技术企业证书"]
    assert str(version.amount_max_wan) == "50.00"
    assert version.golden_cases.count() == 2
    assert list(version.transitions.values_list("action", flat=True)) == ["create", "submit", "publish"]
    assert PolicyVersion.objects.get(policy__key="credit-a-fast-track").mode == "exempt"


def test_loading_twice_changes_nothing(tmp_path):
    path = write(tmp_path, ENTRIES)
    load(path)
    before = counts()
    published_at = list(PolicyVersion.objects.order_by("pk").values_list("published_at", flat=True))

    output = load(path)

    assert "未变 2 项" in output and "新增 0 项" in output
    assert counts() == before == (2, 2, 4, 6)
    assert list(PolicyVersion.objects.order_by("pk").values_list("published_at", flat=True)) == published_at


def test_a_changed_entry_becomes_a_new_published_version(tmp_path):
    load(write(tmp_path, ENTRIES))
    changed = copy.deepcopy(ENTRIES)
    changed[0]["summary"] = "修订后的摘要。"

    output = load(write(tmp_path, changed))

    assert "更新 1 项" in output and "未变 1 项" in output
    versions = PolicyVersion.objects.filter(policy__key="software-rd-subsidy").order_by("number")
    assert [(v.number, v.status) for v in versions] == [(1, Status.RETIRED), (2, Status.PUBLISHED)]
    assert versions[1].summary == "修订后的摘要。" and versions[0].summary == ENTRIES[0]["summary"]
    # A changed golden case is a change too.
    changed[1]["golden_cases"][1]["name"] = "未提供纳税信用等级（示例）"
    load(write(tmp_path, changed))
    assert PolicyVersion.objects.filter(policy__key="credit-a-fast-track").count() == 2


def test_an_invalid_rule_refuses_the_whole_load(tmp_path):
    broken = copy.deepcopy(ENTRIES)
    broken[1]["rule"] = {"all": [{"fact": "tax_credit_rating", "op": "gte", "value": "A"}]}

    with pytest.raises(CommandError) as caught:
        load(write(tmp_path, broken))

    message = str(caught.value)
    assert "credit-a-fast-track" in message and "rule.all[0].op" in message
    assert counts() == (0, 0, 0, 0)  # the valid first entry was not written either


def test_a_failing_golden_case_refuses_the_load_naming_it(tmp_path):
    broken = copy.deepcopy(ENTRIES)
    broken[0]["golden_cases"][1]["expected"] = "eligible"

    with pytest.raises(CommandError) as caught:
        load(write(tmp_path, broken))

    assert "制造企业（示例）" in str(caught.value)
    assert counts() == (0, 0, 0, 0)


def test_malformed_entries_are_all_reported(tmp_path):
    broken = copy.deepcopy(ENTRIES)
    broken[0]["mode"] = "sometimes"
    broken[1]["effective_from"] = "2026/01/01"
    broken.append(copy.deepcopy(ENTRIES[0]))  # duplicate key

    with pytest.raises(CommandError) as caught:
        load(write(tmp_path, broken))

    message = str(caught.value)
    assert "software-rd-subsidy: mode" in message
    assert "credit-a-fast-track: effective_from" in message
    assert "标识重复" in message


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError) as caught:
        load(tmp_path / "absent.json")
    assert "找不到政策清单文件" in str(caught.value)


def test_reloading_does_not_undo_a_staff_edit(tmp_path, staff_editor, staff_reviewer):
    path = write(tmp_path, ENTRIES)
    load(path)
    policy = Policy.objects.get(key="software-rd-subsidy")
    draft = services.policy_version_create_draft(policy=policy, by=staff_editor)
    services.policy_version_update(version=draft, by=staff_editor, contact_name="赵六（示例）")
    services.policy_submit(version=draft, by=staff_editor)
    services.policy_approve(version=draft, by=staff_reviewer)
    services.policy_publish(version=draft, by=staff_reviewer)

    output = load(path)

    assert "未变 2 项" in output
    assert policy.current_published.pk == draft.pk and policy.current_published.contact_name == "赵六（示例）"


def test_the_project_catalogue_loads_idempotently():
    from policies.loader import DEFAULT_FILE

    load(DEFAULT_FILE)
    before = counts()
    output = load(DEFAULT_FILE)

    entries = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    assert f"未变 {len(entries)} 项" in output
    assert counts() == before
    assert before[0] == len(entries) >= 30
    assert PolicyVersion.objects.filter(status=Status.PUBLISHED).count() == len(entries)
    assert PolicyVersion.objects.filter(status=Status.PUBLISHED, mode="exempt").count() >= 8


def test_benefit_periods_default_to_once_and_annual_entries_name_their_year() -> None:
    from policies.loader import DEFAULT_FILE, read_catalogue

    periods = {entry.key: entry.fields["benefit_period"] for entry in read_catalogue(DEFAULT_FILE)}
    assert periods["tech-sme-rd-reward"] == "2026" and periods["patent-insurance"] == "2026"
    assert periods["high-tech-enterprise-reward"] == "once"  # 一次性 in its text
    assert set(periods.values()) == {"once", "2026"}


def test_a_made_up_benefit_period_is_refused_by_name() -> None:
    import json

    from policies.loader import DEFAULT_FILE, CatalogueError, parse_catalogue

    data = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    data[0]["benefit_period"] = "annual"
    with pytest.raises(CatalogueError, match="benefit_period"):
        parse_catalogue(data)
