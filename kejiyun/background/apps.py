from django.apps import AppConfig


class BackgroundConfig(AppConfig):
    """Long work as runs with progress: the run table, the handler registry the owning apps
    fill, the Celery task and the progress page (docs/adr/0019-background-work.md)."""

    name = "kejiyun.background"
    label = "background"
    verbose_name = "后台任务"
