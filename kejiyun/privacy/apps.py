from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Data-subject rights (PIPL §§44-47): see, export and correct one's own data, withdraw
    consents and cancel the account."""

    name = "kejiyun.privacy"
    label = "privacy"
    verbose_name = "个人信息权利"
