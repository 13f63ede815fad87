from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kejiyun.audit.services import audit_verify


class Command(BaseCommand):
    help = "Check the audit log hash chain; exits non-zero when a row was altered or removed."

    def handle(self, *args: Any, **options: Any) -> None:
        broken = audit_verify()
        if broken:
            raise CommandError(f"Audit chain broken at event ids: {', '.join(map(str, broken))}")
        self.stdout.write("Audit chain intact.")
