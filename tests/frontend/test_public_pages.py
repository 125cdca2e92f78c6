"""Public pages: the 政策清单, a policy's page, the 政策计算器 and the industry autocomplete."""

from __future__ import annotations

import pytest

from policies.models import Mode, PolicyVersion
from tests.frontend.support import exempt_policy, published_policy
from tests.policies.factories import PolicyVersionFactory

pytestmark = pytest.mark.django_db


def test_policy_list_shows_published_policies_with_badge_and_deadline(client, django_assert_max_num_queries) -> None:
    import datetime as dt

    exempt_policy(title="免申奖励（示例）")
    published_policy(title="申报补贴（示例）", application_end=dt.date(2030, 6, 30))
    PolicyVersionFactory(title="草稿政策（示例）")

    with django_assert_max_num_queries(6):
        response = client.get("/policies/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "免申奖励（示例）" in html and "申报补贴（示例）" in html
    assert "草稿政策" not in html
    assert "免申即享" in html
    assert "2030年6月30日" in html


def test_policy_list_filters_by_mode_and_returns_a_partial_to_htmx(client) -> None:
    exempt_policy(title="免申奖励（示例）")
    published_policy(title="申报补贴（示例）")

    response = client.get("/policies/", {"mode": Mode.EXEMPT}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert "免申奖励（示例）" in html and "申报补贴（示例）" not in html
    assert "<html" not in html  # only the results fragment


def test_policy_list_filters_by_industry_name_and_code(client) -> None:
    published_policy(title="软件政策（示例）")
    published_policy(title="制造政策（示例）", rule={"fact": "industry", "op": "under", "value": ["C"]})

    by_code = client.get("/policies/", {"industry": "6513"}).content.decode()
    by_name = client.get("/policies/", {"industry": "软件开发（6513）"}).content.decode()

    for html in (by_code, by_name):
        assert "软件政策（示例）" in html and "制造政策（示例）" not in html


def test_policy_list_paginates(client) -> None:
    for i in range(12):
        published_policy(title=f"分页政策{i:02d}（示例）")

    first = client.get("/policies/").content.decode()
    second = client.get("/policies/", {"page": 2}).content.decode()

    assert "共 12 项政策" in first and "第 1 / 2 页" in first
    assert first.count("分页政策") == 10 and second.count("分页政策") == 2


def test_policy_detail_words_the_rule_and_names_the_contact(client) -> None:
    version = published_policy(contact_name="李明（示例）", source_quote="加大对软件企业的支持。")

    html = client.get(f"/policies/{version.policy_id}/").content.decode()

    assert "高新技术企业" in html and "软件和信息技术服务业" in html
    assert "李明（示例）" in html
    assert "加大对软件企业的支持。" in html
    assert "如何申报" in html


def test_policy_detail_links_its_open_rule_that_answers(client) -> None:
    version = published_policy()

    html = client.get(f"/policies/{version.policy_id}/").content.decode()

    link = f"/api/v1/policies/{version.policy_id}/versions/{version.number}/rule/"
    assert f'href="{link}"' in html and "开放规则" in html
    assert client.get(link).json()["rule"] == version.rule


def test_policy_detail_explains_exempt_mode(client) -> None:
    version = exempt_policy()

    html = client.get(f"/policies/{version.policy_id}/").content.decode()

    assert "免申即享：无需申报" in html


def test_unpublished_policy_is_404(client) -> None:
    draft = PolicyVersionFactory(status=PolicyVersion.Status.DRAFT)

    assert client.get(f"/policies/{draft.policy_id}/").status_code == 404


def test_calculator_lists_a_fitting_policy_with_its_reason(client) -> None:
    published_policy(title="软件企业研发补贴（示例）")
    published_policy(title="制造政策（示例）", rule={"fact": "industry", "op": "under", "value": ["C"]})

    response = client.get(
        "/calculator/", {"submitted": "1", "industry": "应用软件开发", "qualifications": ["high_tech"]}
    )

    html = response.content.decode()
    eligible, _, rest = html.partition("补充信息后可判断")
    assert "软件企业研发补贴（示例）" in eligible
    assert "符合全部条件" in eligible and "高新技术企业" in eligible
    assert "制造政策（示例）" in rest  # listed under 不符合


def test_calculator_says_what_is_missing(client) -> None:
    published_policy(title="软件企业研发补贴（示例）")

    html = client.get("/calculator/", {"submitted": "1", "industry": "6513"}).content.decode()

    assert "还差什么" in html
    assert "需补充：企业资质" in html or "只差：高新技术企业" in html


def test_calculator_refuses_an_unknown_industry(client) -> None:
    html = client.get("/calculator/", {"submitted": "1", "industry": "不存在的行业"}).content.decode()

    assert "未找到该行业" in html
    assert "计算结果" not in html


def test_calculator_without_input_shows_only_the_form(client) -> None:
    response = client.get("/calculator/")

    assert response.status_code == 200
    assert "计算结果" not in response.content.decode()


def test_industry_options_match_name_and_code(client) -> None:
    by_name = client.get("/industries/options/", {"industry": "集成电路设计", "level": "class"}).content.decode()
    by_code = client.get("/industries/options/", {"industry": "651", "level": "class"}).content.decode()

    assert "集成电路设计（6520）" in by_name
    assert "软件开发（6513）" in by_code
    assert "（65）" not in by_code  # classes only
