"""factory_boy factories for policies. Rows are built directly: tests of the workflow go through services."""

from __future__ import annotations

import datetime as dt

import factory

from policies.models import BenefitKind, GoldenCase, Mode, Policy, PolicyVersion
from tests.enterprises.factories import UserFactory

# A rule most tests use: software and IT services (65) holding a valid 高新技术企业 qualification.
HIGH_TECH_SOFTWARE_RULE = {
    "all": [
        {"fact": "industry", "op": "under", "value": ["65"]},
        {"fact": "qualification", "op": "has", "value": "high_tech"},
    ]
}

ELIGIBLE_PROFILE = {
    "industry_code": "6520",
    "qualifications": [{"kind": "high_tech", "valid_from": "2024-01-01", "valid_to": None}],
    "sources": "department",
}
INELIGIBLE_PROFILE = {"industry_code": "3311", "sources": "department"}


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Policy

    key = factory.Sequence(lambda n: f"policy-{n}")
    created_by = factory.SubFactory(UserFactory)


class PolicyVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyVersion

    policy = factory.SubFactory(PolicyFactory)
    number = 1
    status = PolicyVersion.Status.DRAFT
    title = factory.Sequence(lambda n: f"示例政策{n}")
    summary = "示例摘要"
    body = "示例正文"
    source_section = "第十章 三（二）"
    source_quote = "示例原文"
    department = "区科技局"
    contact_name = "王敏（示例）"
    contact_phone = "0512-0000-0000（示例）"
    benefit_kind = BenefitKind.SUBSIDY
    benefit_description = "示例补贴"
    mode = Mode.APPLY
    effective_from = dt.date(2020, 1, 1)
    effective_to = None
    chains = factory.LazyFunction(list)
    materials = factory.LazyFunction(lambda: ["营业执照"])
    rule = factory.LazyFunction(lambda: dict(HIGH_TECH_SOFTWARE_RULE))
    author = factory.SelfAttribute("policy.created_by")

    class Params:
        published = factory.Trait(
            status=PolicyVersion.Status.PUBLISHED,
            published_at=factory.LazyFunction(lambda: dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
        )


class GoldenCaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GoldenCase

    version = factory.SubFactory(PolicyVersionFactory)
    name = factory.Sequence(lambda n: f"案例{n}")
    profile = factory.LazyFunction(lambda: dict(ELIGIBLE_PROFILE))
    expected = "eligible"
