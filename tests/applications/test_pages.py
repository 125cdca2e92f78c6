"""在线申报 pages: dashboard groups, the one-page form with Chinese field errors, detail with timeline,
withdraw and resubmit, 我的申报, the staff console; strangers get 404, anonymous users go to login."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from portal.applications import services
from portal.applications.models import Application
from portal.notifications.models import ChannelPreference

from .conftest import stored_files
from .support import PDF_BYTES, apply_policy, decide, full_files, pdf, xlsx

pytestmark = pytest.mark.django_db


def section(html: str, heading_id: str) -> str:
    """The HTML of the <section> labelled by `heading_id`."""
    start = html.index(f'aria-labelledby="{heading_id}"')
    return html[start : html.index("</section>", start)]


def make(user, version) -> Application:
    return services.application_submit(
        enterprise=user.enterprise,
        version=version,
        by=user,
        contact_name="张敏",
        contact_phone="13912345678",
        statement="示例",
        files=full_files(),
    )


def test_the_dashboard_links_each_open_policy_to_the_form_and_moves_it_once_applied(client, alice, version) -> None:
    closed = apply_policy(title="已截止的补贴（示例）", application_end=timezone.localdate() - dt.timedelta(days=1))
    decide(alice.enterprise, closed)
    client.force_login(alice)
    url = f"/enterprises/{alice.enterprise.credit_code}/"

    before = client.get(url).content.decode()
    apply_url = f"/enterprises/{alice.enterprise.credit_code}/apply/{version.pk}/"
    assert apply_url in section(before, "apply-heading")
    assert "已截止的补贴（示例）" in section(before, "apply-heading")
    assert f"/apply/{closed.pk}/" not in before and "申报已截止" in before
    assert "已申报（0 项）" in before

    application = make(alice, version)
    after = client.get(url).content.decode()
    assert apply_url not in after
    assert version.title not in section(after, "apply-heading")
    applied = section(after, "applied-heading")
    assert "已申报（1 项）" in applied and version.title in applied and "已提交" in applied
    assert f"/applications/{application.pk}/" in applied


def test_the_form_shows_the_policy_materials_and_prefilled_contact(client, alice, version) -> None:
    alice.first_name, alice.last_name = "敏", "张"
    alice.save()
    ChannelPreference.objects.create(user=alice, phone="13900001111")
    client.force_login(alice)

    page = client.get(f"/enterprises/{alice.enterprise.credit_code}/apply/{version.pk}/").content.decode()

    assert f"在线申报：{version.title}" in page
    assert version.conditions_text in page
    end = version.application_end
    assert f"{end.year}年{end.month}月{end.day}日" in page
    assert '<label for="id_material_1">项目申报书</label>' in page
    assert '<label for="id_material_2">近一年财务报表</label>' in page
    assert "营业执照（系统已自动调取，无需上传）" in page and 'name="material_0"' not in page
    assert 'value="张敏"' in page and 'value="13900001111"' in page


def test_errors_re_render_the_form_in_chinese_by_field(client, alice, version, media_root) -> None:
    client.force_login(alice)
    url = f"/enterprises/{alice.enterprise.credit_code}/apply/{version.pk}/"

    response = client.post(
        url, {"contact_name": "", "contact_phone": "12345", "material_1": pdf("伪装.png"), "statement": "说明文字"}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "提交未成功" in page
    errors = dict(re.findall(r'<ul class="errorlist" id="id_(\w+)_error"><li>(.*?)</li>', page))
    assert errors["contact_name"] == "请填写联系人"
    assert errors["contact_phone"].startswith("联系电话格式不正确")
    assert errors["material_1"] == "“伪装.png”的内容不是 PNG 文件（扩展名与文件内容不符）"
    assert errors["material_2"] == "请上传“近一年财务报表”"
    assert "说明文字" in page  # what was typed is kept
    assert Application.objects.count() == 0 and stored_files(media_root) == []


def test_submit_then_see_the_timeline_attachments_and_download(client, alice, version) -> None:
    client.force_login(alice)
    url = f"/enterprises/{alice.enterprise.credit_code}/apply/{version.pk}/"

    response = client.post(
        url,
        {
            "contact_name": "张敏",
            "contact_phone": "0512-66668888",
            "material_1": [pdf("申报书.pdf")],
            "material_2": [xlsx("报表.xlsx")],
        },
        follow=True,
    )

    application = Application.objects.get()
    assert (
        response.redirect_chain[-1][0] == f"/enterprises/{alice.enterprise.credit_code}/applications/{application.pk}/"
    )
    page = response.content.decode()
    assert "申报已提交" in page
    assert re.search(
        r'<ol class="timeline".*?<li class="tl-submitted">\s*<span class="tl-status">已提交</span>', page, re.S
    )
    attachment = application.attachments.get(material="项目申报书")
    download = f"/enterprises/{alice.enterprise.credit_code}/applications/{application.pk}/attachments/{attachment.pk}/"
    assert download in page and "/media/" not in page
    assert b"".join(client.get(download).streaming_content) == PDF_BYTES
    # Opening the form again shows the application instead of a second form.
    again = client.get(url, follow=True)
    assert again.redirect_chain[-1][0].endswith(f"/applications/{application.pk}/")


def test_outside_the_window_the_page_says_so_and_shows_no_form(client, alice) -> None:
    late = apply_policy(application_start=dt.date(2024, 1, 1), application_end=dt.date(2024, 3, 31))
    decide(alice.enterprise, late)
    client.force_login(alice)

    page = client.get(f"/enterprises/{alice.enterprise.credit_code}/apply/{late.pk}/").content.decode()

    assert "申报已截止：本政策申报时间为2024年1月1日至2024年3月31日。" in page
    assert "提交申报" not in page


def test_withdraw_and_submit_again_from_the_pages(client, alice, version) -> None:
    application = make(alice, version)
    client.force_login(alice)
    detail = f"/enterprises/{alice.enterprise.credit_code}/applications/{application.pk}/"
    assert "撤回申报" in client.get(detail).content.decode()

    client.post(f"{detail}withdraw/", {"reason": "材料要更新"})

    application.refresh_from_db()
    assert application.status == "withdrawn"
    page = client.get(detail).content.decode()
    assert "撤回申报</button>" not in page and "重新申报" in page
    form = client.get(f"/enterprises/{alice.enterprise.credit_code}/apply/{version.pk}/").content.decode()
    assert "您曾撤回该申报" in form and "已上传：申报书.pdf" in form


def test_a_returned_application_is_corrected_and_resubmitted(client, alice, version, staff_reviewer) -> None:
    application = make(alice, version)
    services.application_return(application=application, by=staff_reviewer, reason="报表缺少盖章页")
    client.force_login(alice)
    detail = f"/enterprises/{alice.enterprise.credit_code}/applications/{application.pk}/"

    page = client.get(detail).content.decode()
    assert "处理意见：报表缺少盖章页" in page and "补正后重新提交" in page

    bad = client.post(f"{detail}resubmit/", {"contact_name": "张敏", "contact_phone": "x"})
    assert bad.status_code == 400 and "联系电话格式不正确" in bad.content.decode()
    client.post(
        f"{detail}resubmit/",
        {"contact_name": "张敏", "contact_phone": "13912345678", "material_2": xlsx("盖章版.xlsx")},
    )
    application.refresh_from_db()
    assert application.status == "submitted"
    assert "盖章版.xlsx" in client.get(detail).content.decode()


def test_my_applications_tab(client, alice, version) -> None:
    application = make(alice, version)
    client.force_login(alice)

    page = client.get(f"/enterprises/{alice.enterprise.credit_code}/applications/").content.decode()

    assert 'aria-current="page">我的申报' in page
    assert f'id="application-{application.pk}"' in page and version.title in page and "已提交" in page


def test_a_stranger_gets_404_on_every_page(client, charlie, alice, version) -> None:
    application = make(alice, version)
    attachment = application.attachments.first()
    code = alice.enterprise.credit_code
    client.force_login(charlie)
    base = f"/enterprises/{code}/applications/{application.pk}/"

    assert client.get(f"/enterprises/{code}/apply/{version.pk}/").status_code == 404
    assert client.post(f"/enterprises/{code}/apply/{version.pk}/", {"contact_name": "x"}).status_code == 404
    assert client.get(f"/enterprises/{code}/applications/").status_code == 404
    assert client.get(base).status_code == 404
    assert client.get(f"{base}attachments/{attachment.pk}/").status_code == 404
    assert client.post(f"{base}withdraw/").status_code == 404
    assert client.post(f"{base}resubmit/").status_code == 404
    # charlie's own enterprise with alice's ids: still nothing
    own = f"/enterprises/{charlie.enterprise.credit_code}/applications/{application.pk}/"
    assert client.get(own).status_code == 404
    assert client.get(f"{own}attachments/{attachment.pk}/").status_code == 404
    assert Application.objects.get(pk=application.pk).status == "submitted"


def test_anonymous_users_are_sent_to_login(client, alice, version) -> None:
    application = make(alice, version)
    attachment = application.attachments.first()
    code = alice.enterprise.credit_code
    for url in (
        f"/enterprises/{code}/apply/{version.pk}/",
        f"/enterprises/{code}/applications/",
        f"/enterprises/{code}/applications/{application.pk}/",
        f"/enterprises/{code}/applications/{application.pk}/attachments/{attachment.pk}/",
        "/console/applications/",
        f"/console/applications/{application.pk}/attachments/{attachment.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url


def test_staff_console_lists_filters_and_decides(client, alice, version, staff_reviewer) -> None:
    application = make(alice, version)
    client.force_login(staff_reviewer)

    listing = client.get("/console/applications/").content.decode()
    assert "已提交（1）" in listing and f'id="application-{application.pk}"' in listing
    assert (
        f'id="application-{application.pk}"'
        not in client.get("/console/applications/?status=approved").content.decode()
    )
    detail = client.get(f"/console/applications/{application.pk}/").content.decode()
    assert "受理" in detail and "退回补正" in detail and alice.enterprise.name in detail
    attachment = application.attachments.get(material="项目申报书")
    assert f"/console/applications/{application.pk}/attachments/{attachment.pk}/" in detail
    assert b"".join(
        client.get(f"/console/applications/{application.pk}/attachments/{attachment.pk}/").streaming_content
    )

    no_reason = client.post(f"/console/applications/{application.pk}/reject/", {"text": ""}, follow=True)
    assert "请填写理由" in no_reason.content.decode()
    assert client.post(f"/console/applications/{application.pk}/delete/").status_code == 404
    client.post(f"/console/applications/{application.pk}/accept/", {"text": ""})
    client.post(f"/console/applications/{application.pk}/approve/", {"text": "符合条件"})
    application.refresh_from_db()
    assert application.status == "approved"
    page = client.get(f"/console/applications/{application.pk}/").content.decode()
    timeline = page[page.index('<ol class="timeline"') :]
    assert timeline.index("已提交") < timeline.index("已受理") < timeline.index("已通过")


def test_enterprise_users_cannot_open_the_console(client, alice, version) -> None:
    application = make(alice, version)
    client.force_login(alice)

    assert client.get("/console/applications/").status_code == 403
    assert client.get(f"/console/applications/{application.pk}/").status_code == 403
    assert client.post(f"/console/applications/{application.pk}/accept/").status_code == 403
    assert Application.objects.get(pk=application.pk).status == "submitted"


def test_every_page_has_labelled_controls_and_ordered_headings(client, alice, version, staff_reviewer) -> None:
    from tests.frontend.test_accessibility import assert_accessible

    code = alice.enterprise.credit_code
    client.force_login(alice)
    assert_accessible(client.get(f"/enterprises/{code}/apply/{version.pk}/").content.decode())
    assert_accessible(client.post(f"/enterprises/{code}/apply/{version.pk}/", {"contact_phone": "1"}).content.decode())
    application = make(alice, version)
    services.application_return(application=application, by=staff_reviewer, reason="请补充")
    for url in (
        f"/enterprises/{code}/",
        f"/enterprises/{code}/applications/",
        f"/enterprises/{code}/applications/{application.pk}/",
    ):
        assert_accessible(client.get(url).content.decode())
    client.force_login(staff_reviewer)
    services.application_resubmit(application=application, by=alice)
    for url in ("/console/applications/", f"/console/applications/{application.pk}/"):
        assert_accessible(client.get(url).content.decode())
