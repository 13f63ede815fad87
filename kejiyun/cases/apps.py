from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "kejiyun.cases"
    label = "cases"
    verbose_name = "一单一策"
