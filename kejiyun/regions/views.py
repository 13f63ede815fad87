from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kejiyun.accounts.guards import staff_required
from kejiyun.accounts.models import User
from kejiyun.regions.selectors import centres_in_jurisdiction


@staff_required
def staff_centres(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    centres = list(centres_in_jurisdiction(user=user).order_by("region_id"))
    return render(request, "regions/staff_centres.html", {"centres": centres})
