"""Seed zones (三区), townships of 320505 and 特色园区 from matching.core.vocabulary; administrators edit them later."""

from django.db import migrations

# Copied at the time of writing so that later edits to vocabulary.py do not change this migration.
ZONES = {
    "business_innovation": "商务创新功能区",
    "advanced_manufacturing": "先进制造功能区",
    "tech_ecology": "科技生态功能区",
}
TOWNSHIPS = {
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
PARKS = {
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


def seed(apps, schema_editor):
    Zone = apps.get_model("enterprises", "Zone")
    Township = apps.get_model("enterprises", "Township")
    Park = apps.get_model("enterprises", "Park")
    zones = {}
    for order, (code, name) in enumerate(ZONES.items()):
        zones[code], _ = Zone.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
    for code, (name, zone_code) in TOWNSHIPS.items():
        Township.objects.get_or_create(code=code, defaults={"name": name, "zone": zones.get(zone_code)})
    for order, (code, name) in enumerate(PARKS.items()):
        Park.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
