# ruff: noqa  (deliberately bad code: the fixture the semgrep rules must find)
# Fixture for kejiyun-view-fetches-by-id-without-access-check (.semgrep/views.yml).
from django.shortcuts import get_object_or_404

from kejiyun.cases.models import Case
from kejiyun.demands.models import Demand
from kejiyun.demands.selectors import access_demand


def demand_detail(request, demand_id):
    # ruleid: kejiyun-view-fetches-by-id-without-access-check
    demand = Demand.objects.get(pk=demand_id)
    # ruleid: kejiyun-view-fetches-by-id-without-access-check
    case = get_object_or_404(Case, pk=request.GET["case"])
    # ruleid: kejiyun-view-fetches-by-id-without-access-check
    other = Demand.objects.get(id=demand_id)
    # ok: kejiyun-view-fetches-by-id-without-access-check
    mine = access_demand(request.user, demand_id)
    # ok: kejiyun-view-fetches-by-id-without-access-check
    own = Demand.objects.filter(organisation=request.user.organisation).first()
    return demand, case, other, mine, own
