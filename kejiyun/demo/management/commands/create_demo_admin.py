import secrets
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.accounts.services import PasswordRefused, password_validate


class Command(BaseCommand):
    help = "Create the demo administrator once and print its credentials that one time."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        if User.objects.filter(username=username).exists():
            self.stdout.write(
                f"demo administrator '{username}' already exists; its password was printed "
                "when it was created (reset it with `manage.py changepassword "
                f"{username}`)."
            )
            return
        # A random password still meets the rules (ADR 0002): draw until one does.
        candidate = User(username=username, role=Role.ADMIN, is_superuser=True)
        while True:
            password = secrets.token_urlsafe(12)
            try:
                password_validate(password=password, user=candidate)
            except PasswordRefused:
                continue
            break
        User.objects.create_superuser(
            username=username,
            password=password,
            display_name="平台管理员",
            role=Role.ADMIN,
            email="",
            password_changed_at=timezone.now(),
        )
        self.stdout.write(self.style.SUCCESS("demo administrator created (shown only once):"))
        self.stdout.write(f"    username: {username}\n    password: {password}")
