"""Demo logins and the demo loader (示例数据). Used by `manage.py load_demo` and printed by `bootstrap`."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from devtools.demo.enterprise_loader import load_enterprises
from portal import events
from portal.accounts.roles import Role

# (username, password, what it shows). Demo only: load_demo refuses to run with production settings.
DEMO_LOGINS: list[tuple[str, str, str]] = [
    ("admin", "huiqi-admin-demo", "超级管理员（全部权限，可进入 /admin/）"),
    ("editor", "huiqi-editor-demo", "政策编辑"),
    ("reviewer", "huiqi-reviewer-demo", "审核人"),
    ("dataofficer", "huiqi-data-demo", "数据专员（部门数据导入、企业信息维护、各部门的数据纠错）"),
    ("auditor", "huiqi-auditor-demo", "审计员"),
    ("qiye_a", "huiqi-qiye-demo", "企业用户：苏州澄芯微电子科技有限公司（示例企业）"),
    ("qiye_a2", "huiqi-qiye-demo", "企业用户：同上企业的另一位同事"),
    ("qiye_b", "huiqi-qiye-demo", "企业用户：苏州恒岳精密机械有限公司（示例企业，看不到其他企业）"),
]
STAFF_ROLES: dict[str, list[Role]] = {
    "editor": [Role.POLICY_EDITOR],
    "reviewer": [Role.REVIEWER],
    "dataofficer": [Role.DATA_OFFICER],
    "auditor": [Role.AUDITOR],
}
# Enterprise users: username → index into devtools.demo.enterprises.demo_enterprises().
ENTERPRISE_USERS: dict[str, int] = {"qiye_a": 0, "qiye_a2": 0, "qiye_b": 1}


def demo_loaded() -> bool:
    """True when every demo login and every demo enterprise is present."""
    from devtools.demo.enterprises import demo_enterprises
    from portal.accounts.models import User
    from portal.enterprises.models import Enterprise

    usernames = [u for u, _, _ in DEMO_LOGINS]
    if User.objects.filter(username__in=usernames).count() != len(usernames):
        return False
    codes = [e.credit_code for e in demo_enterprises()]
    return Enterprise.objects.filter(credit_code__in=codes).count() == len(codes)


@transaction.atomic
def load_demo(*, log: Callable[[str], None] = lambda _: None) -> bool:
    """Create the demo enterprises and users if missing. Returns False when everything was there already."""
    from devtools.demo.applications import load_sample_applications

    if demo_loaded():
        # Sample applications need the catalogue, which may have been loaded after the first run.
        if load_sample_applications(log=log):
            return True
        log("示例数据已存在，未作任何修改。")
        return False

    with events.batched(events.FACTS_CHANGED):  # one re-match of the demo enterprises, after commit
        enterprises = load_enterprises(log=log)
    _load_users(enterprises)
    load_sample_applications(log=log)
    log(f"示例数据已就绪：{len(enterprises)} 家示例企业，{len(DEMO_LOGINS)} 个示例账号。")
    return True


def _load_users(enterprises: list) -> None:
    from portal.accounts.models import User
    from portal.accounts.services import user_set_roles

    passwords = {u: p for u, p, _ in DEMO_LOGINS}
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@example.invalid", passwords["admin"])
    for username, roles in STAFF_ROLES.items():
        user = User.objects.filter(username=username).first()
        if user is None:
            # Roles grant the console; /admin/ is for the administrator (superuser) alone.
            user = User.objects.create_user(username, password=passwords[username])
            user_set_roles(user=user, roles=roles)
    # The demo 数据专员 works every department's 数据纠错 queue (a deployment assigns each officer to theirs).
    from matching.core.vocabulary import DEPARTMENT_SOURCES
    from portal.corrections.services import department_assign

    officer = User.objects.get(username="dataofficer")
    for department in sorted(DEPARTMENT_SOURCES):
        department_assign(user=officer, department=department)
    for username, index in ENTERPRISE_USERS.items():
        if not User.objects.filter(username=username).exists():
            User.objects.create_user(username, password=passwords[username], enterprise=enterprises[index])
