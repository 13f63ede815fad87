from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "kejiyun.recognition"
    label = "recognition"
    verbose_name = "典型选树"
