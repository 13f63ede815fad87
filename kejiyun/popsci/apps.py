from django.apps import AppConfig


class PopsciConfig(AppConfig):
    name = "kejiyun.popsci"
    label = "popsci"
    verbose_name = "精准科普"

    def ready(self) -> None:
        # Campaign sends from the page run in the background (kejiyun/background).
        from kejiyun.popsci.targeting.runs import register

        register()
