from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "kejiyun.matching"
    label = "matching"
    verbose_name = "精准对接"
