from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "kejiyun.events"
    label = "events"
    verbose_name = "服务大会与对接活动"
