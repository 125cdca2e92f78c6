# The data step of 0002, in its own transaction: the new foreign keys' indexes and constraints are
# created when 0002 ends, and PostgreSQL refuses that on rows updated in the same transaction.
from django.db import migrations
from django.utils import timezone

# Keep the row furthest along when two versions of a policy each granted the same benefit.
_RANK = {"disbursed": 0, "confirmed": 1, "objected": 2, "notified": 3, "determined": 4, "revoked": 5}


def per_benefit(apps, schema_editor):
    """Existing rows: policy from the version, period 一次性 (every version so far was 一次性); where
    two versions granted the same enterprise the same benefit, keep one and mark the others as its
    duplicates: still-open duplicates are revoked (never paid twice), a duplicate already disbursed
    is listed as a possible 追回 case for staff. Transitions learn their actor's role."""
    Entitlement = apps.get_model("entitlements", "Entitlement")
    Transition = apps.get_model("entitlements", "EntitlementTransition")
    Group = apps.get_model("auth", "Group")
    now = timezone.now()
    groups: dict[tuple, list] = {}
    for row in Entitlement.objects.select_related("policy_version").order_by("id"):
        row.policy_id = row.policy_version.policy_id
        row.period = row.policy_version.benefit_period
        row.save(update_fields=["policy", "period"])
        groups.setdefault((row.enterprise_id, row.policy_id, row.period), []).append(row)
    for rows in groups.values():
        if len(rows) < 2:
            continue
        keeper = min(rows, key=lambda r: (_RANK.get(r.status, 9), r.id))
        for row in rows:
            if row.pk == keeper.pk:
                continue
            row.duplicate_of_id = keeper.pk
            reason = f"与兑现记录 #{keeper.pk} 重复（同一政策、同一兑现期，由政策更正版本重复认定），已合并"
            if row.status == "disbursed":
                row.recovery_flagged_at = now
                row.recovery_note = reason + "；该记录已兑现，列为可能追回，请核查"
                row.save(update_fields=["duplicate_of", "recovery_flagged_at", "recovery_note"])
                continue
            previous = row.status
            if previous != "revoked":
                row.status = "revoked"
                row.revoke_reason = reason
                Transition.objects.create(
                    entitlement_id=row.pk, from_status=previous, to_status="revoked", reason=reason, at=now
                )
            row.save(update_fields=["duplicate_of", "status", "revoke_reason"])
    staff_roles = {"reviewer", "data_officer"}
    for transition in Transition.objects.exclude(by=None).select_related("by"):
        user = transition.by
        held = set(Group.objects.filter(user=user, name__in=staff_roles).values_list("name", flat=True))
        if user.is_superuser or held:
            transition.by_role = "reviewer" if (user.is_superuser or "reviewer" in held) else "data_officer"
        elif getattr(user, "enterprise_id", None):
            transition.by_role = "enterprise"
        transition.save(update_fields=["by_role"])
    for row in Entitlement.objects.all():
        Transition.objects.filter(entitlement_id=row.pk, policy_version=None).update(policy_version=row.policy_version_id)


class Migration(migrations.Migration):

    dependencies = [
        ('entitlements', '0002_entitlement_per_benefit'),
    ]

    operations = [
        migrations.RunPython(per_benefit, migrations.RunPython.noop),
    ]
