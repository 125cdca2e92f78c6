"""Routes of the server-rendered pages."""

from django.urls import path

from . import (
    account_views,
    application_views,
    audit_views,
    console_data_views,
    console_views,
    correction_views,
    follow_views,
    insight_views,
    notice_views,
    receipt_views,
    views,
    workspace_views,
)

app_name = "frontend"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/two-factor/setup/", account_views.two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/", account_views.two_factor_verify, name="two_factor_verify"),
    path("console/audit/", audit_views.audit_log, name="console_audit"),
    path("console/audit/export.csv", audit_views.audit_export, name="console_audit_export"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/<int:policy_id>/", views.policy_detail, name="policy_detail"),
    path("calculator/", views.calculator, name="calculator"),
    path("industries/options/", views.industry_options, name="industry_options"),
    path("workspace/", views.workspace, name="workspace"),
    # Notice links are stored once per fan-out, without the enterprise: these lead to the reader's own page.
    path("workspace/<str:page>/", workspace_views.own_page, name="workspace_page"),
    path("enterprises/<str:credit_code>/", workspace_views.dashboard, name="enterprise_dashboard"),
    path("enterprises/<str:credit_code>/profile/", workspace_views.profile, name="enterprise_profile"),
    path(
        "enterprises/<str:credit_code>/qualifications/<int:qualification_id>/edit/",
        workspace_views.qualification_edit,
        name="enterprise_qualification_edit",
    ),
    path(
        "enterprises/<str:credit_code>/qualifications/<int:qualification_id>/withdraw/",
        workspace_views.qualification_withdraw,
        name="enterprise_qualification_withdraw",
    ),
    path(
        "enterprises/<str:credit_code>/entitlements/<int:entitlement_id>/<str:action>/",
        workspace_views.entitlement_action,
        name="entitlement_action",
    ),
    path("enterprises/<str:credit_code>/sites/", workspace_views.sites, name="enterprise_sites"),
    path(
        "enterprises/<str:credit_code>/sites/<int:site_id>/withdraw/",
        workspace_views.site_withdraw,
        name="enterprise_site_withdraw",
    ),
    path("enterprises/<str:credit_code>/inbox/", workspace_views.inbox, name="enterprise_inbox"),
    path(
        "enterprises/<str:credit_code>/inbox/read-all/",
        workspace_views.inbox_mark_all_read,
        name="enterprise_inbox_read_all",
    ),
    path(
        "enterprises/<str:credit_code>/inbox/<int:notification_id>/open/",
        workspace_views.inbox_open,
        name="enterprise_inbox_open",
    ),
    path(
        "enterprises/<str:credit_code>/inbox/<int:notification_id>/read/",
        workspace_views.inbox_mark_read,
        name="enterprise_inbox_read",
    ),
    # 关注与提醒, 申报日历 and its private iCal feed (portal/follows)
    path("enterprises/<str:credit_code>/follows/", follow_views.follows, name="enterprise_follows"),
    path("enterprises/<str:credit_code>/follows/<int:policy_id>/", follow_views.follow, name="enterprise_follow"),
    path("enterprises/<str:credit_code>/calendar/", follow_views.calendar, name="enterprise_calendar"),
    path(
        "enterprises/<str:credit_code>/calendar/token/",
        follow_views.calendar_token,
        name="enterprise_calendar_token",
    ),
    path("calendar/<str:token>.ics", follow_views.calendar_feed, name="calendar_feed"),
    # 决定通知书 (portal/notices)
    path("enterprises/<str:credit_code>/notices/", notice_views.enterprise_notices, name="enterprise_notices"),
    path(
        "enterprises/<str:credit_code>/notices/<str:number>/",
        notice_views.enterprise_notice,
        name="enterprise_notice",
    ),
    path(
        "enterprises/<str:credit_code>/notices/<str:number>/pdf/",
        notice_views.enterprise_notice_pdf,
        name="enterprise_notice_pdf",
    ),
    # 在线申报 (portal/applications)
    path("enterprises/<str:credit_code>/apply/<int:version_id>/", application_views.apply, name="enterprise_apply"),
    path(
        "enterprises/<str:credit_code>/applications/",
        application_views.application_list,
        name="enterprise_applications",
    ),
    path(
        "enterprises/<str:credit_code>/applications/<int:application_id>/",
        application_views.application_detail,
        name="enterprise_application",
    ),
    path(
        "enterprises/<str:credit_code>/applications/<int:application_id>/withdraw/",
        application_views.application_withdraw,
        name="enterprise_application_withdraw",
    ),
    path(
        "enterprises/<str:credit_code>/applications/<int:application_id>/resubmit/",
        application_views.application_resubmit,
        name="enterprise_application_resubmit",
    ),
    path(
        "enterprises/<str:credit_code>/applications/<int:application_id>/attachments/<int:attachment_id>/",
        application_views.attachment_download,
        name="enterprise_application_attachment",
    ),
    # 数据纠错 / 申请核验 (portal/corrections)
    path("enterprises/<str:credit_code>/corrections/", correction_views.correction_list, name="enterprise_corrections"),
    path(
        "enterprises/<str:credit_code>/corrections/new/",
        correction_views.correction_new,
        name="enterprise_correction_new",
    ),
    path(
        "enterprises/<str:credit_code>/corrections/<int:correction_id>/",
        correction_views.correction_detail,
        name="enterprise_correction",
    ),
    path(
        "enterprises/<str:credit_code>/corrections/<int:correction_id>/evidence/<int:evidence_id>/",
        correction_views.correction_evidence,
        name="enterprise_correction_evidence",
    ),
    path("console/corrections/", correction_views.console_corrections, name="console_corrections"),
    path(
        "console/corrections/<int:correction_id>/",
        correction_views.console_correction,
        name="console_correction",
    ),
    path(
        "console/corrections/<int:correction_id>/evidence/<int:evidence_id>/",
        correction_views.console_correction_evidence,
        name="console_correction_evidence",
    ),
    path(
        "console/corrections/<int:correction_id>/<str:action>/",
        correction_views.console_correction_action,
        name="console_correction_action",
    ),
    path("console/", console_views.console, name="console"),
    path("console/recall/", receipt_views.recall_list, name="console_recall"),
    path("console/recall/<int:item_id>/decide/", receipt_views.recall_decide, name="console_recall_decide"),
    path("receipts/<int:receipt_id>/", receipt_views.receipt, name="receipt"),
    path("receipts/<int:receipt_id>/receipt.json", receipt_views.receipt_json, name="receipt_json"),
    path("enterprises/<str:credit_code>/receipts/", receipt_views.enterprise_receipts, name="enterprise_receipts"),
    path("console/reviews/", console_views.review_queue, name="console_review_queue"),
    path("console/entitlements/", console_views.entitlements, name="console_entitlements"),
    path(
        "console/entitlements/<int:entitlement_id>/<str:action>/",
        console_views.entitlement_action,
        name="console_entitlement_action",
    ),
    path("console/notices/", notice_views.console_notices, name="console_notices"),
    path("console/notices/<str:number>/", notice_views.console_notice, name="console_notice"),
    path("console/notices/<str:number>/pdf/", notice_views.console_notice_pdf, name="console_notice_pdf"),
    path("console/deliveries/", console_views.deliveries, name="console_deliveries"),
    path("console/deliveries/<int:delivery_id>/retry/", console_views.delivery_retry, name="console_delivery_retry"),
    path("console/policies/new/", console_views.policy_new, name="console_policy_new"),
    path("console/versions/<int:version_id>/", console_views.version_detail, name="console_version"),
    path("console/versions/<int:version_id>/action/", console_views.version_action, name="console_version_action"),
    path("console/versions/<int:version_id>/preview/", console_views.version_preview, name="console_version_preview"),
    path("console/versions/<int:version_id>/golden/new/", console_views.golden_new, name="console_golden_new"),
    path("console/golden/<int:case_id>/edit/", console_views.golden_edit, name="console_golden_edit"),
    path("console/golden/<int:case_id>/delete/", console_views.golden_delete, name="console_golden_delete"),
    path("console/previews/<int:run_id>/", console_views.preview_run, name="console_preview_run"),
    path("console/dashboard/", console_data_views.dashboard, name="console_dashboard"),
    path("console/exclusions/", insight_views.exclusion_conflicts, name="console_exclusions"),
    path("console/funnel/", insight_views.funnel, name="console_funnel"),
    path("console/funnel/export.xlsx", insight_views.funnel_export, name="console_funnel_export"),
    path("console/feeds/", console_data_views.feeds, name="console_feeds"),
    path("console/feeds/<int:import_id>/", console_data_views.feed_detail, name="console_feed"),
    path("console/feeds/<int:import_id>/errors.csv", console_data_views.feed_report_csv, name="console_feed_csv"),
    path("console/runs/<int:run_id>/", console_views.run_progress, name="console_run_progress"),
    path("console/rule/preview/", console_views.rule_preview, name="console_rule_preview"),
    path("console/rule/row/", console_views.rule_row, name="console_rule_row"),
    path("console/applications/", application_views.console_applications, name="console_applications"),
    path(
        "console/applications/<int:application_id>/",
        application_views.console_application,
        name="console_application",
    ),
    path(
        "console/applications/<int:application_id>/attachments/<int:attachment_id>/",
        application_views.console_attachment_download,
        name="console_application_attachment",
    ),
    path(
        "console/applications/<int:application_id>/<str:action>/",
        application_views.console_application_action,
        name="console_application_action",
    ),
]
