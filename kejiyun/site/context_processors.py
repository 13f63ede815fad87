from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def platform(request: HttpRequest) -> dict[str, Any]:
    return {"PLATFORM_NAME": "科技云", "DEPLOYMENT_PROVINCE": settings.DEPLOYMENT_PROVINCE}
