from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kejiyun.api"
    label = "api"
    verbose_name = "开放接口"

    def ready(self) -> None:
        from kejiyun.api import receivers  # noqa: F401  (domain events → webhook deliveries)
