from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "kejiyun.accounts"
    label = "accounts"
    verbose_name = "用户与组织"

    def ready(self) -> None:
        from kejiyun.accounts import receivers  # noqa: F401  (the login footprint)
