from django.apps import AppConfig


class JobsConfig(AppConfig):
    """The periodic jobs of `CELERY_BEAT_SCHEDULE`, run in-process (`run_periodic`)."""

    name = "kejiyun.jobs"
    label = "jobs"
    verbose_name = "定时任务"
