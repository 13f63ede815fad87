from django.apps import AppConfig


class TalentConfig(AppConfig):
    name = "kejiyun.talent"
    label = "talent"
    verbose_name = "科技所能"
