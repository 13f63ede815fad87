from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for `make run`: built through the real services, never imported by an app."""

    name = "kejiyun.demo"
    label = "demo"
    verbose_name = "演示数据"
