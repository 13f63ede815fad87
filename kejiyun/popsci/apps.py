from django.apps import AppConfig


class PopsciConfig(AppConfig):
    name = "kejiyun.popsci"
    label = "popsci"
    verbose_name = "精准科普"
