"""Receipts (认定依据): what every decision that changes what an enterprise gets rested on. Immutable.

One row per change: a match decision whose outcome or verified flag changed (kind decision, written by
the same statement that writes the record on the bulk paths), and every creation or status change of a
免申即享 entitlement (kind entitlement, pointing at the decision receipt it rests on as `basis`). Each
states the policy version, the sha256 of its rule's canonical JSON, the engine version, the evaluator's
full explanation and every fact the rule read with its value, source department and as-of date.

Never updated or deleted: the model refuses both (save of a stored row, delete, QuerySet.update/delete);
PostgreSQL and SQLite refuse UPDATE with a trigger, PostgreSQL DELETE too (migration 0002; SQLite's
test flush deletes rows, so there only the model guards stand against DELETE). No foreign key to the
rows above this layer (match records, entitlements): their ids are kept as plain numbers.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models


class ReceiptImmutable(Exception):
    """A receipt was about to be changed or deleted."""


class ReceiptQuerySet(models.QuerySet["Receipt"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise ReceiptImmutable("认定依据一经生成不得修改")

    def delete(self) -> NoReturn:  # refuses instead of returning counts
        raise ReceiptImmutable("认定依据一经生成不得删除")


class Receipt(models.Model):
    class Kind(models.TextChoices):
        DECISION = "decision", "匹配判定"
        ENTITLEMENT = "entitlement", "兑现状态"

    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    # No database foreign keys (as the audit trail): a bulk run writes tens of thousands of receipts, and
    # the deferred checks would cost as much again; the ORM still refuses to delete what a receipt names.
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name="企业",
        on_delete=models.PROTECT,
        related_name="receipts",
        db_constraint=False,
        # receipt_pair_idx leads with the enterprise and receipt_version_idx with the version: a single-column
        # index beside each would only be one more index to update per receipt written.
        db_index=False,
    )
    policy_version = models.ForeignKey(
        "policies.PolicyVersion",
        verbose_name="政策版本",
        on_delete=models.PROTECT,
        related_name="receipts",
        db_constraint=False,
        db_index=False,
    )
    match_record_id = models.BigIntegerField("匹配结果", null=True, blank=True)
    entitlement_id = models.BigIntegerField("兑现记录", null=True, blank=True, db_index=True)
    outcome = models.CharField("判定结果", max_length=12, blank=True, default="")
    verified = models.BooleanField("已核验", default=False)
    previous_outcome = models.CharField("原判定结果", max_length=12, blank=True, default="")
    previous_verified = models.BooleanField("原已核验", default=False)
    status = models.CharField("兑现状态", max_length=16, blank=True, default="")
    previous_status = models.CharField("原兑现状态", max_length=16, blank=True, default="")
    reason = models.TextField("说明", blank=True, default="")
    by_role = models.CharField("操作角色", max_length=16, blank=True, default="system")
    rule_hash = models.CharField("规则哈希（SHA-256）", max_length=64)
    engine_version = models.CharField("判定引擎版本", max_length=32)
    explanation = models.JSONField("判定说明", null=True, blank=True)
    facts = models.JSONField("所用数据", default=dict, blank=True)
    basis = models.ForeignKey(
        "self",
        verbose_name="所依据的判定",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    run_id = models.BigIntegerField("匹配任务", null=True, blank=True)
    at = models.DateTimeField("生成时间")

    objects = ReceiptQuerySet.as_manager()

    class Meta:
        verbose_name = "认定依据"
        verbose_name_plural = "认定依据"
        ordering = ("-at", "-id")
        indexes = [
            models.Index(fields=("enterprise", "policy_version", "kind", "id"), name="receipt_pair_idx"),
            models.Index(fields=("policy_version", "kind", "id"), name="receipt_version_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=["decision", "entitlement"]), name="receipt_kind"),
        ]

    def __str__(self) -> str:
        return f"认定依据 #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ReceiptImmutable("认定依据一经生成不得修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ReceiptImmutable("认定依据一经生成不得删除")

    @property
    def entitled(self) -> bool:
        """What the receipt grants: a verified eligible decision, or an entitlement not revoked."""
        if self.kind == self.Kind.DECISION:
            return self.outcome == "eligible" and self.verified
        return self.status not in ("revoked", "")
