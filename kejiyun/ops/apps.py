from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "kejiyun.ops"
    label = "ops"
    verbose_name = "运营数据"
