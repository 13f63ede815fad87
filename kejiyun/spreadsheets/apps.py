from django.apps import AppConfig


class SpreadsheetsConfig(AppConfig):
    name = "kejiyun.spreadsheets"
    label = "spreadsheets"
    verbose_name = "Excel 导入导出"
