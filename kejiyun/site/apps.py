from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The top layer: home, dashboards, health and the pages that read across apps."""

    name = "kejiyun.site"
    label = "site"
    verbose_name = "平台"
