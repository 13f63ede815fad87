from django.apps import AppConfig


class SpreadsheetsConfig(AppConfig):
    name = "kejiyun.spreadsheets"
    label = "spreadsheets"
    verbose_name = "Excel 导入导出"

    def ready(self) -> None:
        # Imports and large exports run in the background (kejiyun/background).
        from kejiyun.spreadsheets.background import register

        register()
