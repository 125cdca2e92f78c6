"""Shared vocabulary (codes and Chinese labels) used by the registry, the rules and the catalogue.

Pure data: no Django imports, so the matching core can use it. Zones and parks here are the
*initial* data; administrators edit them in the database (portal.enterprises.Zone / Park), and
rules refer to them by code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Where a fact came from (数据来源). Anything other than SELF_DECLARED is a department that
# shares data with the portal (部门信息共享) and counts as verified (已核验).
SELF_DECLARED = "self_declared"
SOURCES: dict[str, str] = {
    SELF_DECLARED: "企业自行填报",
    "market_regulation": "市场监督管理局",
    "tax": "税务局",
    "science_tech": "科技局",
    "industry_info": "工业和信息化局",
    "statistics": "统计局",
    "credit": "信用办（公共信用信息平台）",
}
DEPARTMENT_SOURCES: frozenset[str] = frozenset(SOURCES) - {SELF_DECLARED}
# A derived fact decided by figures from several departments (企业规模 from 统计局 and 税务局 figures)
# names them all, joined: "statistics+tax". Verified when every one of them is.
SOURCE_JOINER = "+"


def source_codes(source: str | None) -> tuple[str, ...]:
    """The department codes (or self_declared) a source names: one, or several joined."""
    return tuple(source.split(SOURCE_JOINER)) if source else ()


def sources_within(source: str | None, accepted: frozenset[str]) -> bool:
    """Whether every code the source names is in `accepted` (False for none)."""
    if not source:
        return False
    if SOURCE_JOINER not in source:  # the usual case, one department: asked for every condition of every rule
        return source in accepted
    return all(code in accepted for code in source.split(SOURCE_JOINER))


# 企业资质 kinds.
QUALIFICATION_KINDS: dict[str, str] = {
    "high_tech": "高新技术企业",
    "tech_sme": "科技型中小企业",
    "gazelle": "瞪羚企业",
    "unicorn_cultivation": "独角兽培育企业",
    "specialized_sme": "专精特新中小企业",
    "little_giant": "专精特新“小巨人”企业",
    "single_champion": "制造业单项冠军企业",
    "service_manufacturing": "服务型制造示范企业",
}

# Enterprise size (统计上大中小微型企业划分办法（2017）).
SIZES: dict[str, str] = {
    "large": "大型",
    "medium": "中型",
    "small": "小型",
    "micro": "微型",
    "unclassified": "未划型",
}

TAX_CREDIT_RATINGS: dict[str, str] = {"A": "A级", "B": "B级", "M": "M级", "C": "C级", "D": "D级"}

# 三区 (plan 第四章 一): initial functional zones.
ZONES: dict[str, str] = {
    "business_innovation": "商务创新功能区",
    "advanced_manufacturing": "先进制造功能区",
    "tech_ecology": "科技生态功能区",
}

# Township-level units of 320505 and the zone each belongs to at first (editable data).
TOWNSHIPS: dict[str, tuple[str, str | None]] = {
    "320505001": ("横塘街道", "business_innovation"),
    "320505002": ("狮山街道", "business_innovation"),
    "320505003": ("枫桥街道", "business_innovation"),
    "320505004": ("镇湖街道", "tech_ecology"),
    "320505101": ("通安镇", "advanced_manufacturing"),
    "320505400": ("浒墅关经开区（镇）", "advanced_manufacturing"),
    "320505405": ("苏州高新技术创业服务中心", "business_innovation"),
    "320505407": ("科技城（东渚街道）", "tech_ecology"),
    "320505408": ("苏州高新区综合保税区", "advanced_manufacturing"),
}

# 特色园区 named in the plan (initial data).
PARKS: dict[str, str] = {
    "taihu_science_city": "太湖科学城",
    "shishan_finance": "狮山金融服务业集聚区",
    "finance_town": "苏州金融小镇",
    "life_health_town": "苏州生命健康小镇",
    "canal_culture_town": "浒墅关运河文化小镇",
    "embroidery_town": "苏绣小镇",
    "hefeng_park": "和枫科创园",
    "dayangshan_digital": "大阳山数字经济产业园",
    "kjc_ngit_park": "苏州科技城新一代信息技术产业园",
    "medical_device_park": "江苏医疗器械科技产业园",
}

# The plan's "2+3+X" industry system (第三章): chain tag → industry codes (any level).
INDUSTRY_CHAINS: dict[str, tuple[str, tuple[str, ...]]] = {
    "electronic_info": ("电子信息", ("39",)),
    "equipment_manufacturing": ("装备制造", ("33", "34", "35", "36", "37", "38", "40")),
    "ngit": ("新一代信息技术", ("3973", "6520", "3985", "3562", "6431", "6532", "3914", "4011", "65")),
    "medical_devices": ("医疗器械", ("358",)),
    "new_energy": ("新能源", ("3825", "3824", "384", "3415", "4415", "4416")),
    "fintech": ("金融科技", ("6930", "6940")),
    "modern_services": ("现代服务业", ("L", "M", "I")),
}

# Chinese names of the countries and regions foreign investment most often comes from (ISO 3166
# alpha-2), for wording `foreign_investor_country` conditions. Any other valid alpha-2 code is
# accepted in rules and shown as the bare code.
COUNTRIES: dict[str, str] = {
    "HK": "中国香港",
    "MO": "中国澳门",
    "TW": "中国台湾",
    "JP": "日本",
    "KR": "韩国",
    "SG": "新加坡",
    "US": "美国",
    "DE": "德国",
    "GB": "英国",
    "FR": "法国",
    "IT": "意大利",
    "NL": "荷兰",
    "CH": "瑞士",
    "SE": "瑞典",
    "FI": "芬兰",
    "DK": "丹麦",
    "NO": "挪威",
    "BE": "比利时",
    "AT": "奥地利",
    "ES": "西班牙",
    "IE": "爱尔兰",
    "LU": "卢森堡",
    "CA": "加拿大",
    "AU": "澳大利亚",
    "NZ": "新西兰",
    "IL": "以色列",
    "IN": "印度",
    "TH": "泰国",
    "MY": "马来西亚",
    "ID": "印度尼西亚",
    "VN": "越南",
    "PH": "菲律宾",
    "VG": "英属维尔京群岛",
    "KY": "开曼群岛",
    "BM": "百慕大",
    "SA": "沙特阿拉伯",
    "AE": "阿拉伯联合酋长国",
    "RU": "俄罗斯",
    "BR": "巴西",
    "MX": "墨西哥",
}


@dataclass(frozen=True)
class PlaceNames:
    """The district's functional zones and parks (code → name) and each township's zone (code → zone code).

    The database holds them as administrators edit them (portal.enterprises.Zone / Park / Township); callers
    outside the core read them there and pass them in (golden-case validation, forms, the rule wording).
    `INITIAL_PLACES` is what the database starts with, for the checks that run without one.
    """

    zones: Mapping[str, str]
    parks: Mapping[str, str]
    township_zones: Mapping[str, str | None]


INITIAL_PLACES = PlaceNames(
    zones=ZONES, parks=PARKS, township_zones={code: zone for code, (_, zone) in TOWNSHIPS.items()}
)
