from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from kejiyun.recognition.services import recognition_advance


class Command(BaseCommand):
    help = (
        "Move recognition batches along their dates (what the periodic job recognition.advance "
        "does): open drafts whose opening day has come, close open ones after their closing "
        "day, publish results whose notice has ended with every objection answered."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        moved = recognition_advance()
        self.stdout.write(f"recognition.advance: {moved}")
