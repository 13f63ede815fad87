"""Issue a personal access token for an account, from the shell (operators, the API fuzz run).

    manage.py api_token_issue --user demo_staff_province --days 30 --scopes cases:read demands:read

Prints only the raw token (shown once; only its hash is stored), so a script can capture it:
`TOKEN=$(manage.py api_token_issue --user alice --days 1)`. Without `--scopes` the token
carries every scope; the account's role and jurisdiction still decide what it may see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kejiyun.accounts.models import User
from kejiyun.api.models import ALL_SCOPES, ApiToken
from kejiyun.api.tokens import token_issue


class Command(BaseCommand):
    help = "Issue a personal access token for an account and print it (only the raw token)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="username of the account")
        parser.add_argument("--days", type=int, default=30, help="lifetime in days (default 30)")
        parser.add_argument(
            "--scopes",
            nargs="+",
            default=list(ALL_SCOPES),
            metavar="SCOPE",
            help=f"scopes to grant (default: all): {' '.join(ALL_SCOPES)}",
        )
        parser.add_argument("--name", default="", help="a label shown to the account's owner")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["user"]
        days: int = options["days"]
        scopes: list[str] = options["scopes"]
        limit = settings.API_PERSONAL_TOKEN_MAX_DAYS
        if not 1 <= days <= limit:
            raise CommandError(f"--days must be between 1 and {limit}")
        unknown = sorted(set(scopes) - set(ALL_SCOPES))
        if unknown:
            raise CommandError(
                f"unknown scope(s) {', '.join(unknown)}; choose from {', '.join(ALL_SCOPES)}"
            )
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no account named {username!r}")
        if not user.is_active:
            raise CommandError(f"account {username!r} is not active")
        raw, _ = token_issue(
            user=user,
            kind=ApiToken.Kind.PERSONAL,
            lifetime=timedelta(days=days),
            scopes=scopes,
            name=options["name"] or "manage.py api_token_issue",
        )
        self.stdout.write(raw)
