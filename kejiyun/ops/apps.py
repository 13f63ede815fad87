from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "kejiyun.ops"
    label = "ops"
    verbose_name = "运营数据"

    def ready(self) -> None:
        # Bulletin files and rollup rebuilds run in the background (kejiyun/background).
        from kejiyun.ops.bulletins.files import register as register_bulletin_files
        from kejiyun.ops.rebuild.runs import register as register_rebuilds

        register_bulletin_files()
        register_rebuilds()
