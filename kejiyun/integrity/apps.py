from django.apps import AppConfig


class IntegrityConfig(AppConfig):
    name = "kejiyun.integrity"
    label = "integrity"
    verbose_name = "刷量识别"
