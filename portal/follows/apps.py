from django.apps import AppConfig


class FollowsConfig(AppConfig):
    name = "portal.follows"
    label = "follows"
    verbose_name = "政策关注与申报日历"
