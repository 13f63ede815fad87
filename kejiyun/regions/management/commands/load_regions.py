from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from kejiyun.regions.services import regions_load, service_centres_ensure


class Command(BaseCommand):
    help = "Load every region of China (and the deployment province's townships) and its centres."

    def handle(self, *args: Any, **options: Any) -> None:
        regions = regions_load()
        centres = service_centres_ensure(province_code=settings.DEPLOYMENT_PROVINCE)
        self.stdout.write(
            f"regions: {regions.created} created, {regions.updated} updated, "
            f"{regions.unchanged} unchanged; service centres: {centres.created} created, "
            f"{centres.updated} updated, {centres.unchanged} unchanged"
        )
