from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kejiyun.audit"
    label = "audit"
    verbose_name = "审计日志"

    def ready(self) -> None:
        from kejiyun.audit import receivers  # noqa: F401  (connects the auth signal receivers)
