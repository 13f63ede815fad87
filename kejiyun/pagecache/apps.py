from django.apps import AppConfig


class PageCacheConfig(AppConfig):
    """What every visitor sees, kept in the cache: public page fragments keyed by the
    generation of the content they show (`ContentGeneration`), so a change shows at once."""

    name = "kejiyun.pagecache"
    label = "pagecache"
    verbose_name = "公共页面缓存"
