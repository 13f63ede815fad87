from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kejiyun.accounts"
    label = "accounts"
    verbose_name = "用户与组织"
