from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kejiyun.core"
    label = "core"
    verbose_name = "平台"
