"""`manage.py api_client_create --name 科创中国 --owner <username> --scopes demands:read cases:read`

Creates a partner system's OAuth2 client acting as `--owner` and prints its client id and
secret. The secret is shown only here: only its keyed hash is stored."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kejiyun.accounts.models import User
from kejiyun.api.clients import api_client_create
from kejiyun.api.models import ALL_SCOPES


class Command(BaseCommand):
    help = "创建接入系统（OAuth2 客户端凭证），打印客户端标识与密钥（密钥只显示一次）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="接入系统名称")
        parser.add_argument("--owner", required=True, help="代表账号的用户名")
        parser.add_argument(
            "--scopes", nargs="+", required=True, help=f"权限范围：{' '.join(ALL_SCOPES)}"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        owner = User.objects.filter(username=options["owner"], is_active=True).first()
        if owner is None:
            raise CommandError(f"没有启用的账号 {options['owner']!r}。")
        scopes = [s for item in options["scopes"] for s in item.replace(",", " ").split()]
        try:
            client, secret = api_client_create(name=options["name"], owner=owner, scopes=scopes)
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from None
        self.stdout.write(f"client_id: {client.client_id}")
        self.stdout.write(f"client_secret: {secret}")
        self.stdout.write(f"scopes: {' '.join(client.scopes)}")
        self.stdout.write("密钥只显示这一次，请妥善保存。")
