from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kejiyun.api"
    label = "api"
    verbose_name = "开放接口"

    def ready(self) -> None:
        from kejiyun.api import receivers  # noqa: F401  (domain events → webhook deliveries)
        from kejiyun.api.webhooks import WebhookChannel
        from kejiyun.notifications.channels import CHANNEL_ADAPTERS
        from kejiyun.notifications.models import Channel

        CHANNEL_ADAPTERS[Channel.WEBHOOK] = WebhookChannel()
