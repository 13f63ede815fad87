from typing import Any

from django.core.management.base import BaseCommand

from kejiyun.talent.services import disciplines_load, industries_load


class Command(BaseCommand):
    help = "Load the NSFC discipline codes and the GB/T 4754-2017 industry codes (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        disciplines = disciplines_load()
        industries = industries_load()
        self.stdout.write(
            f"disciplines: {disciplines.created} created, {disciplines.updated} updated, "
            f"{disciplines.unchanged} unchanged; industries: {industries.created} created, "
            f"{industries.updated} updated, {industries.unchanged} unchanged"
        )
