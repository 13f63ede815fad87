from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "kejiyun.regions"
    label = "regions"
    verbose_name = "行政区划与服务中心"
