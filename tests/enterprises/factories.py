"""factory_boy factories for the registry and for users (shared by every app's tests)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import factory
import factory.random
from django.utils import timezone
from factory.django import DjangoModelFactory

from portal.accounts.models import User
from portal.accounts.services import user_set_roles
from portal.enterprises import credit_code as cc
from portal.enterprises.models import Enterprise, Qualification, Site, Township

AS_OF = date(2025, 12, 31)
# Which department a factory enterprise's facts come from (as the feeds would have it).
OWNER = {
    "name": "market_regulation",
    "industry_code": "market_regulation",
    "established_on": "market_regulation",
    "foreign_investor_country": "market_regulation",
    "employees": "statistics",
    "revenue": "statistics",
    "total_assets": "statistics",
    "above_designated_size": "statistics",
    "rd_expense_ratio": "science_tech",
    "tax_credit_rating": "tax",
    "dishonest": "credit",
}


def random_credit_code(region: str = cc.HUQIU_REGION) -> str:
    """A valid 统一社会信用代码 with a random organisation code (both check characters correct)."""
    rng = factory.random.randgen
    return cc.build(org_body="".join(rng.choice(cc.ALPHABET) for _ in range(8)), region=region)


def provenance_for(values: dict[str, Any], *, source: str | None = None, as_of: date = AS_OF) -> dict[str, Any]:
    """Provenance entries for every known value: from `source`, or from the department that owns each fact."""
    return {
        key: {"source": source or OWNER[key], "as_of": as_of.isoformat()}
        for key, value in values.items()
        if key in OWNER and value is not None
    }


class EnterpriseFactory(DjangoModelFactory):
    """An industrial enterprise in 320505 with department-verified facts (size computed on save).

    `facts_source="self_declared"` marks every fact self-declared; pass `provenance=` to set it exactly.
    """

    class Meta:
        model = Enterprise

    class Params:
        facts_source = None
        facts_as_of = AS_OF

    credit_code = factory.LazyFunction(random_credit_code)
    name = factory.Sequence(lambda n: f"苏州测试{n:04d}科技有限公司")
    industry_code = "3973"
    established_on = date(2015, 6, 1)
    employees = 150
    revenue = Decimal("8000.00")
    total_assets = Decimal("6000.00")
    above_designated_size = True
    foreign_investor_country = ""
    rd_expense_ratio = Decimal("6.50")
    tax_credit_rating = "A"
    dishonest = False
    provenance = factory.LazyAttribute(
        lambda o: provenance_for({f: getattr(o, f) for f in OWNER}, source=o.facts_source, as_of=o.facts_as_of)
    )

    @classmethod
    def _create(cls, model_class: type[Enterprise], *args: Any, **kwargs: Any) -> Enterprise:
        enterprise = model_class(*args, **kwargs)
        enterprise.recompute_size()
        enterprise.save()
        return enterprise


class QualificationFactory(DjangoModelFactory):
    """A 高新技术企业 certificate valid from a year ago to a year ahead, verified by 科技局."""

    class Meta:
        model = Qualification

    enterprise = factory.SubFactory(EnterpriseFactory)
    kind = "high_tech"
    certificate_no = factory.Sequence(lambda n: f"GR2025320{n:05d}")
    valid_from = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=365))
    valid_to = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))
    source = "science_tech"
    as_of = AS_OF


class SiteFactory(DjangoModelFactory):
    """An operating site in 狮山街道 (商务创新功能区), filed with market regulation."""

    class Meta:
        model = Site
        skip_postgeneration_save = True

    enterprise = factory.SubFactory(EnterpriseFactory)
    kind = Site.Kind.OPERATING
    address = factory.Sequence(lambda n: f"苏州高新区狮山路{n + 1}号")
    township = factory.LazyFunction(lambda: Township.objects.get(code="320505002"))
    source = "market_regulation"

    @factory.post_generation
    def parks(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.parks.set(extracted)


class UserFactory(DjangoModelFactory):
    """A plain user (password "pw")."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pw")


class EnterpriseUserFactory(UserFactory):
    """A user of one enterprise: EnterpriseUserFactory(enterprise=...)."""

    enterprise = factory.SubFactory(EnterpriseFactory)


class StaffUserFactory(UserFactory):
    """Staff with roles: StaffUserFactory(roles=[Role.POLICY_EDITOR, ...])."""

    is_staff = True

    @factory.post_generation
    def roles(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            user_set_roles(user=self, roles=extracted or [])
