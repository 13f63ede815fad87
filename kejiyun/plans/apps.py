from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "kejiyun.plans"
    label = "plans"
    verbose_name = "一人一策"
