from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kejiyun.accounts.models import User
from kejiyun.core.decorators import staff_required
from kejiyun.demands.models import Demand
from kejiyun.demands.selectors import access_demand, demands_for_staff, demands_published
from kejiyun.matching.selectors import experts_for_demand


def hall(request: HttpRequest) -> HttpResponse:
    """Public demand hall (需求大厅): published demands, newest first."""
    category = request.GET.get("category", "")
    qs = demands_published()
    if category in Demand.Category.values:
        qs = qs.filter(category=category)
    else:
        category = ""
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "demands/hall.html",
        {"page": page, "category": category, "categories": Demand.Category.choices},
    )


@staff_required
def staff_demands(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    page = Paginator(demands_for_staff(user=user), 25).get_page(request.GET.get("page"))
    return render(request, "demands/staff_list.html", {"page": page})


@staff_required
def staff_demand_detail(request: HttpRequest, demand_id: int) -> HttpResponse:
    """One demand in the staff member's jurisdiction, with the experts ranked for it."""
    user: User = request.user  # type: ignore[assignment]
    demand = access_demand(user, demand_id)
    matches = experts_for_demand(demand=demand, top_k=10)
    return render(request, "demands/staff_detail.html", {"demand": demand, "matches": matches})
