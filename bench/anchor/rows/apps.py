from django.apps import AppConfig


class RowsConfig(AppConfig):
    name = "bench.anchor.rows"
    label = "rows"
    default_auto_field = "django.db.models.BigAutoField"
