from django.apps import AppConfig


class PerformanceConfig(AppConfig):
    name = "kejiyun.performance"
    label = "performance"
    verbose_name = "精准绩效"
