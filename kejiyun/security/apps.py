from django.apps import AppConfig


class SecurityConfig(AppConfig):
    """Security operations: the audit-trail viewer for the security auditor, second-person
    approval of bulk personal-data exports (docs/security.md)."""

    name = "kejiyun.security"
    label = "security"
    verbose_name = "安全审计"
