from django.apps import AppConfig


class DemandsConfig(AppConfig):
    name = "kejiyun.demands"
    label = "demands"
    verbose_name = "科技所需"
