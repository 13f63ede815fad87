from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kejiyun.accounts.models import User
from kejiyun.core.decorators import staff_required
from kejiyun.talent.selectors import access_talent, talent_for_staff, talent_public


def directory(request: HttpRequest) -> HttpResponse:
    """Public directory of S&T workers (name, title, fields; no contact details)."""
    query = request.GET.get("q", "").strip()[:50]
    qs = talent_public(province_path=f"{settings.DEPLOYMENT_PROVINCE}/").order_by("-id")
    if query:
        qs = qs.filter(
            Q(fields__icontains=query)
            | Q(keywords__icontains=query)
            | Q(user__display_name__icontains=query)
        )
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "talent/directory.html", {"page": page, "q": query})


@staff_required
def staff_talent(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    qs = talent_for_staff(user=user).order_by("region_id", "id")
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "talent/staff_list.html", {"page": page})


@staff_required
def staff_talent_detail(request: HttpRequest, profile_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    profile = access_talent(user, profile_id)
    return render(request, "talent/staff_detail.html", {"profile": profile})
