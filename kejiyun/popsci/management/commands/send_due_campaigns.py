from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kejiyun.popsci.targeting.services import campaigns_send_due


class Command(BaseCommand):
    help = "Send scheduled 精准推送 campaigns whose time has come. Safe to run twice."

    def handle(self, *args: Any, **options: Any) -> None:
        results = campaigns_send_due()
        delivered = sum(r.new_deliveries for r in results)
        self.stdout.write(f"campaigns: {len(results)} sent, {delivered} new deliveries")
