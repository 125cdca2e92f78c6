"""示例数据 (sample data): a deterministic set of realistic-looking enterprises in 苏州高新区.

Every name, code and figure here is invented for demonstration (示例); none describes a real company.
Credit codes are valid by GB 32100 / GB 11714 so that the registry accepts them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from matching.core.registry import FACTS, generated_facts, sample_facts
from portal.enterprises import credit_code as cc

SEED = 3205052025
# Fixed dates keep the data identical from run to run (load_demo must be idempotent).
STATISTICS_AS_OF = date(2025, 12, 31)
TAX_AS_OF = date(2025, 4, 30)
CREDIT_AS_OF = date(2025, 11, 30)
SCIENCE_AS_OF = date(2025, 10, 31)
INDUSTRY_INFO_AS_OF = date(2025, 9, 30)
SELF_DECLARED_AS_OF = date(2025, 6, 30)
REGISTRATION_AS_OF = date(2025, 1, 2)

_BRAND_CHARS = (
    "澄芯恒岳瑞泰科沃华晟博越东吴启明润德嘉禾远航卓信创联鼎盛宏图新辰凯瑞汇智众诚"
    "同舟锦程弘毅悦达星海云帆精工睿思迈安长风永鑫正邦华昇通汇盛宇"
)

# Pairs that read like well-known real brands: the demo must not suggest real companies.
_AVOID = frozenset(
    {"中科", "华为", "中兴", "华润", "中信", "英特", "联想", "长城", "银河", "东方", "天成", "华夏", "百川"}
)

# (segment, weight, industry codes, name endings, manufacturing?)
SEGMENTS: tuple[tuple[str, int, tuple[str, ...], tuple[str, ...], bool], ...] = (
    (
        "电子信息",
        60,
        ("3911", "3912", "3921", "3922", "3974", "3976", "3981", "3982", "3985", "3972"),
        ("电子科技", "电子", "光电科技", "精密电子", "显示技术", "通讯科技"),
        True,
    ),
    (
        "装备制造",
        55,
        ("3421", "3491", "3441", "3443", "3670", "3716", "4014", "4015", "3484", "3360"),
        ("精密机械", "智能装备", "自动化科技", "机电", "汽车零部件", "阀门"),
        True,
    ),
    (
        "新一代信息技术",
        55,
        ("6520", "6511", "6513", "6531", "6532", "6431", "6560", "3562", "3973", "3914", "4011"),
        ("微电子科技", "半导体", "信息技术", "软件", "网络科技", "数据科技", "智能科技"),
        False,
    ),
    (
        "医疗器械",
        40,
        ("3581", "3584", "3586", "3589"),
        ("医疗器械", "医疗科技", "生物医学工程", "康复科技"),
        True,
    ),
    (
        "新能源",
        25,
        ("3825", "3841", "3824", "4416", "3415"),
        ("新能源科技", "光伏科技", "能源科技", "储能技术"),
        True,
    ),
    ("金融科技", 6, ("6930", "6940"), ("金融信息服务", "数字科技"), False),
    (
        "生产性服务业",
        45,
        ("7320", "7340", "7452", "7520", "7530", "7540", "7262", "7484", "6540"),
        ("检测技术", "知识产权代理", "人力资源服务", "科技服务", "工程技术研究院", "创业服务"),
        False,
    ),
    (
        "商贸物流与生活服务",
        25,
        ("5179", "5176", "5212", "6110", "6210", "5910", "5920", "5821", "7020", "7010", "4790"),
        ("供应链管理", "物流", "商贸", "酒店管理", "餐饮管理", "物业服务", "置业", "建设工程"),
        False,
    ),
)
# Industries outside the 2017 size table, so that "unclassified" shows up with its reason.
NOT_COVERED = (("8411", "医院"), ("7040", "资产经营"))

# Townships each segment tends to settle in, and the parks found there.
TOWNSHIP_PARKS: dict[str, tuple[str, ...]] = {
    "320505001": ("life_health_town",),
    "320505002": ("shishan_finance", "finance_town"),
    "320505003": ("hefeng_park",),
    "320505004": ("embroidery_town",),
    "320505101": ("dayangshan_digital",),
    "320505400": ("canal_culture_town", "dayangshan_digital"),
    "320505405": (),
    "320505407": ("kjc_ngit_park", "taihu_science_city", "medical_device_park"),
    "320505408": (),
}
SEGMENT_TOWNSHIPS: dict[str, tuple[str, ...]] = {
    "电子信息": ("320505400", "320505101", "320505408", "320505407"),
    "装备制造": ("320505400", "320505101", "320505408", "320505003"),
    "新一代信息技术": ("320505407", "320505002", "320505405"),
    "医疗器械": ("320505407", "320505407", "320505001"),
    "新能源": ("320505400", "320505101", "320505407"),
    "金融科技": ("320505002",),
    "生产性服务业": ("320505002", "320505001", "320505405", "320505407"),
    "商贸物流与生活服务": ("320505001", "320505003", "320505408", "320505004"),
    "未划型": ("320505002", "320505001"),
}
ROADS: dict[str, tuple[str, ...]] = {
    "320505001": ("横塘街道金山路", "横塘街道晋源路"),
    "320505002": ("狮山路", "长江路", "竹园路"),
    "320505003": ("枫桥街道华山路", "枫桥街道金枫路"),
    "320505004": ("镇湖街道石帆路",),
    "320505101": ("通安镇华金路", "通安镇真山路"),
    "320505400": ("浒墅关经开区青花路", "浒墅关经开区华桥路"),
    "320505405": ("锦峰路",),
    "320505407": ("科技城科灵路", "科技城龙山路", "科技城锦峰路"),
    "320505408": ("综合保税区珠江路",),
}
FOREIGN = ("JP", "JP", "JP", "KR", "DE", "US", "SG", "HK", "HK")


@dataclass
class DemoQualification:
    kind: str
    certificate_no: str
    valid_from: date
    valid_to: date | None
    source: str  # a department code or self_declared


@dataclass
class DemoSite:
    township: str
    address: str
    parks: tuple[str, ...] = ()


@dataclass
class DemoEnterprise:
    credit_code: str
    name: str
    segment: str
    industry_code: str
    established_on: date
    foreign_investor_country: str
    employees: int
    revenue: Decimal
    total_assets: Decimal
    above_designated_size: bool
    size_source: str | None  # "statistics", "self_declared" or None (no size data)
    tax_credit_rating: str | None
    dishonest: bool | None
    rd_expense_ratio: Decimal | None
    registered: DemoSite
    sites: list[DemoSite] = field(default_factory=list)
    qualifications: list[DemoQualification] = field(default_factory=list)
    # Facts generated by their own registry definitions (registry.generated_facts), by profile key;
    # None where the generator leaves the fact unknown. See `with_generated_facts`.
    generated: dict[str, Any] = field(default_factory=dict)

    def generated_by(self, department: str) -> dict[str, Any]:
        """The generated facts the department's feed shares (the first of each definition's `shared_by`)."""
        return {
            key: value
            for key, value in self.generated.items()
            if value is not None and FACTS[_FACT_OF_KEY[key]].shared_by[0] == department
        }


_FACT_OF_KEY = {FACTS[name].profile_key: name for name in generated_facts()}
# When each department's generated facts are dated (its feed's usual date).
GENERATED_AS_OF = {
    "market_regulation": REGISTRATION_AS_OF,
    "tax": TAX_AS_OF,
    "statistics": STATISTICS_AS_OF,
    "science_tech": SCIENCE_AS_OF,
    "industry_info": INDUSTRY_INFO_AS_OF,
    "credit": CREDIT_AS_OF,
}


def with_generated_facts(enterprise: DemoEnterprise) -> DemoEnterprise:
    """Fill in the facts whose demo values come from their definitions. Drawn from a generator of the
    enterprise's own (seeded by its credit code), so adding a fact leaves every other demo value as it was."""
    rng = random.Random(enterprise.credit_code)  # noqa: S311 - reproducible sample data, not security
    known = {"employees": enterprise.employees, "revenue": enterprise.revenue}
    enterprise.generated = sample_facts(rng, known, names=generated_facts())
    return enterprise


def _code(rng: random.Random, used: set[str], region: str) -> str:
    while True:
        body = "".join(rng.choice(cc.ALPHABET) for _ in range(8))
        prefix = "91"
        code = cc.build(org_body=body, region=region, prefix=prefix)
        if code not in used:
            used.add(code)
            return code


def _name(rng: random.Random, used: set[str], ending: str) -> str:
    while True:
        brand = rng.choice(_BRAND_CHARS) + rng.choice(_BRAND_CHARS)
        if brand[0] == brand[1] or brand in _AVOID:
            continue
        form = "股份有限公司" if rng.random() < 0.12 else "有限公司"
        name = f"苏州{brand}{ending}{form}"
        if name not in used:
            used.add(name)
            return name


def _site(rng: random.Random, township: str) -> DemoSite:
    road = rng.choice(ROADS[township])
    parks = TOWNSHIP_PARKS[township]
    chosen = (rng.choice(parks),) if parks and rng.random() < 0.55 else ()
    return DemoSite(township, f"苏州高新区{road}{rng.randint(1, 399)}号", chosen)


def _figures(rng: random.Random, manufacturing: bool) -> tuple[int, Decimal, Decimal]:
    # Log-uniform head-count and revenue per head give a realistic spread of sizes.
    employees = round(10 ** rng.uniform(0.5, 3.4))
    per_head = 10 ** rng.uniform(1.4, 2.5) if manufacturing else 10 ** rng.uniform(1.0, 2.1)
    revenue = Decimal(str(round(employees * per_head, 2)))
    assets = Decimal(str(round(float(revenue) * rng.uniform(0.5, 1.6), 2)))
    return employees, revenue, assets


def _qualifications(rng: random.Random, segment: str, index: int) -> list[DemoQualification]:
    out: list[DemoQualification] = []
    tech = segment in ("电子信息", "新一代信息技术", "医疗器械", "新能源", "装备制造")
    if tech and rng.random() < 0.42:
        start = rng.choice((date(2022, 12, 12), date(2023, 11, 6), date(2024, 12, 16), date(2025, 11, 20)))
        out.append(
            DemoQualification(
                "high_tech",
                f"GR{start.year}320{rng.randint(10000, 99999)}",
                start,
                date(start.year + 3, start.month, start.day) - timedelta(days=1),
                "science_tech",
            )
        )
    if tech and rng.random() < 0.3:
        year = rng.choice((2024, 2025))
        out.append(
            DemoQualification(
                "tech_sme",
                f"{year}3205050{rng.randint(1000, 9999)}",
                date(year, 5, 10),
                date(year, 12, 31),
                "science_tech",
            )
        )
    if tech and rng.random() < 0.18:
        start = rng.choice((date(2022, 8, 1), date(2024, 8, 1), date(2025, 7, 15)))
        out.append(
            DemoQualification(
                "specialized_sme",
                f"JSZJTX{start.year}{rng.randint(1000, 9999)}",
                start,
                date(start.year + 3, start.month, start.day) - timedelta(days=1),
                "industry_info",
            )
        )
    if tech and rng.random() < 0.05:
        out.append(
            DemoQualification(
                "little_giant",
                f"XJR{rng.randint(100000, 999999)}",
                date(2023, 7, 1),
                date(2026, 6, 30),
                "industry_info",
            )
        )
    if rng.random() < 0.08:
        # Declared by the enterprise itself, not yet confirmed by the department.
        out.append(DemoQualification("gazelle", "", date(2025, 3, 1), date(2026, 2, 28), "self_declared"))
    if segment == "新一代信息技术" and rng.random() < 0.06:
        out.append(
            DemoQualification(
                "unicorn_cultivation", f"DJS{rng.randint(1000, 9999)}", date(2024, 9, 1), None, "science_tech"
            )
        )
    if segment == "装备制造" and index % 40 == 7:
        out.append(
            DemoQualification(
                "service_manufacturing", f"FWZZ{rng.randint(1000, 9999)}", date(2023, 1, 1), None, "industry_info"
            )
        )
    return out


def _make(
    rng: random.Random, codes: set[str], names: set[str], index: int, segment: str, spec: tuple
) -> DemoEnterprise:
    _, _, industries, endings, manufacturing = spec
    region = cc.HUQIU_REGION if rng.random() < 0.9 else "320500"
    industry = rng.choice(industries)
    name = _name(rng, names, rng.choice(endings))
    employees, revenue, assets = _figures(rng, manufacturing)
    threshold = 2000 if manufacturing else 1000
    r = rng.random()
    size_source = "statistics" if r < 0.68 else "self_declared" if r < 0.9 else None
    township = rng.choice(SEGMENT_TOWNSHIPS[segment])
    enterprise = DemoEnterprise(
        credit_code=_code(rng, codes, region),
        name=name,
        segment=segment,
        industry_code=industry,
        established_on=date(rng.randint(1996, 2024), rng.randint(1, 12), rng.randint(1, 28)),
        foreign_investor_country=rng.choice(FOREIGN) if rng.random() < 0.12 else "",
        employees=employees,
        revenue=revenue,
        total_assets=assets,
        above_designated_size=revenue >= threshold,
        size_source=size_source,
        tax_credit_rating=rng.choices("ABMCD", weights=(40, 45, 10, 4, 1))[0] if rng.random() < 0.85 else None,
        dishonest=(index % 97 == 13) if rng.random() < 0.6 or index % 97 == 13 else None,
        rd_expense_ratio=Decimal(str(round(rng.uniform(1.5, 18), 2)))
        if segment in ("电子信息", "新一代信息技术", "医疗器械", "新能源") and rng.random() < 0.5
        else None,
        registered=_site(rng, township),
        qualifications=_qualifications(rng, segment, index),
    )
    if rng.random() < 0.16:
        others = [t for t in TOWNSHIP_PARKS if t != township]
        for other in rng.sample(others, rng.choice((1, 1, 2))):
            enterprise.sites.append(_site(rng, other))
    return enterprise


def _featured(rng: random.Random, codes: set[str], names: set[str]) -> list[DemoEnterprise]:
    """Two hand-made enterprises the demo logins belong to."""
    a = DemoEnterprise(
        credit_code=_code(rng, codes, cc.HUQIU_REGION),
        name="苏州澄芯微电子科技有限公司",
        segment="新一代信息技术",
        industry_code="6520",
        established_on=date(2016, 3, 18),
        foreign_investor_country="",
        employees=186,
        revenue=Decimal("8650.00"),
        total_assets=Decimal("12400.00"),
        above_designated_size=True,
        size_source="statistics",
        tax_credit_rating="A",
        dishonest=False,
        rd_expense_ratio=Decimal("14.20"),
        registered=DemoSite("320505002", "苏州高新区狮山路88号", ("shishan_finance",)),
        sites=[DemoSite("320505407", "苏州高新区科技城科灵路78号", ("kjc_ngit_park",))],
        qualifications=[
            DemoQualification("high_tech", "GR202432012345", date(2024, 12, 16), date(2027, 12, 15), "science_tech"),
            DemoQualification("tech_sme", "202432050501234", date(2024, 5, 10), date(2024, 12, 31), "science_tech"),
            DemoQualification("gazelle", "", date(2025, 3, 1), date(2026, 2, 28), "self_declared"),
        ],
    )
    b = DemoEnterprise(
        credit_code=_code(rng, codes, cc.HUQIU_REGION),
        name="苏州恒岳精密机械有限公司",
        segment="装备制造",
        industry_code="3484",
        established_on=date(2009, 9, 7),
        foreign_investor_country="JP",
        employees=420,
        revenue=Decimal("36500.00"),
        total_assets=Decimal("41000.00"),
        above_designated_size=True,
        size_source="self_declared",
        tax_credit_rating="B",
        dishonest=False,
        rd_expense_ratio=None,
        registered=DemoSite("320505400", "苏州高新区浒墅关经开区青花路120号", ("canal_culture_town",)),
        sites=[DemoSite("320505101", "苏州高新区通安镇华金路9号", ("dayangshan_digital",))],
        qualifications=[
            DemoQualification(
                "specialized_sme", "JSZJTX20240815", date(2024, 8, 1), date(2027, 7, 31), "industry_info"
            ),
        ],
    )
    names.update({a.name, b.name})
    return [a, b]


def demo_enterprises(count: int = 330) -> list[DemoEnterprise]:
    """The sample enterprises: the two featured ones first, then `count` generated across the segments."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible sample data, not security
    codes: set[str] = set()
    names: set[str] = set()
    out = _featured(rng, codes, names)
    weights = [spec[1] for spec in SEGMENTS]
    for index in range(count):
        spec = rng.choices(SEGMENTS, weights=weights)[0]
        out.append(_make(rng, codes, names, index, spec[0], spec))
    for industry, ending in NOT_COVERED:
        spec = ("未划型", 0, (industry,), (ending,), False)
        out.append(_make(rng, codes, names, len(out), "未划型", spec))
    return [with_generated_facts(enterprise) for enterprise in out]
