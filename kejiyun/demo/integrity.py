"""Demo gaming for the integrity scan to find (刷量识别), in 双流区, through the services:

- two 双流区 enterprises submit four demands that are one template with the product changed
  (a template family: `demand_create` and `demand_submit`, as their users would);
- eight S&T worker accounts are registered from one browser and one network two minutes
  apart, with copy-and-paste profiles, and never used (quota accounts; each with its
  registration footprint, written by `footprint_record` as the sign-up page writes it).

Then the scan runs (`integrity_scan_due`, the periodic job: a fresh database is scanned a
year back) and 成都市's staff confirm one of the flags, so the gaming indicators and the flag
pages have something on them. Idempotent: a second run creates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from kejiyun.accounts.footprints import DEVICE_COOKIE, footprint_record
from kejiyun.accounts.models import Footprint, Organisation, Role, User
from kejiyun.demands.models import Demand
from kejiyun.demands.services import DemandInput, demand_create, demand_submit
from kejiyun.demo.seed import DemoError
from kejiyun.integrity.models import Flag, Subject
from kejiyun.integrity.services import flag_decide, integrity_scan_due
from kejiyun.regions.models import Region
from kejiyun.talent.models import TalentProfile

COUNTY = "510116"  # 双流区
QUOTA_PREFIX = "demo_quota_"
QUOTA_ACCOUNTS = 8
FARM_DEVICE = "9f1c2b3a4d5e6f708192a3b4c5d6e7f8"
FARM_ADDRESS = "171.221.36.45"

TEMPLATE_TITLE = "{p}生产线智能化改造技术需求"
TEMPLATE = (
    "我公司主要从事{p}的生产加工，年产量约两千吨，现有生产线自动化程度低，关键工序依靠人工经验"
    "控制，产品质量波动较大，能耗偏高，旺季产能不足。希望引进智能化控制技术对生产线进行改造，"
    "实现关键工艺参数在线监测和自动调节。"
)
PRODUCTS = ("冷吃兔", "豆瓣酱", "川味香肠", "火锅底料")
PROBLEM = "{p}的炒制和杀菌工序温度全凭人工判断，批次之间口味和色泽差异大，返工率接近一成"
STATE = "目前使用普通燃气炒锅和立式杀菌锅，试过加装温度计人工记录，但记录不连续，效果有限"
TARGETS = "关键工序温度波动控制在正负两度以内，返工率降到百分之三以下，单位能耗下降一成"

QUOTA_PROFILE = {
    "employer": "成都某某农业科技服务有限公司",
    "title": "农艺师",
    "fields": "现代农业技术推广",
    "keywords": "高效种植 绿色防控 土壤改良 水肥一体化",
    "capability": "长期从事农业技术推广工作，熟悉主要农作物高效种植技术，"
    "可为农户和企业提供技术指导服务",
}


@dataclass(frozen=True)
class DemoIntegrity:
    demands: int
    accounts: int
    flags: int
    confirmed: int


def _template_family(now: datetime) -> int:
    firms = list(
        Organisation.objects.filter(
            kind=Organisation.Kind.ENTERPRISE, region_id=COUNTY, members__role=Role.ENTERPRISE
        )
        .distinct()
        .order_by("pk")[:2]
    )
    if len(firms) < 2:
        raise DemoError("双流区 needs two demo enterprises with accounts; run demo_seed first")
    titles = [TEMPLATE_TITLE.format(p=p) for p in PRODUCTS]
    if Demand.objects.filter(organisation__in=firms, title__in=titles).exists():
        return 0
    region = Region.objects.get(code=COUNTY)
    created = 0
    for i, product in enumerate(PRODUCTS):
        firm = firms[i % 2]
        actor = User.objects.filter(organisation=firm, role=Role.ENTERPRISE).order_by("pk").first()
        assert actor is not None
        demand = demand_create(
            organisation=firm,
            actor=actor,
            data=DemandInput(
                title=TEMPLATE_TITLE.format(p=product),
                description=TEMPLATE.format(p=product),
                category=Demand.Category.PROBLEM,
                industry="食品制造",
                region=region,
                problem=PROBLEM.format(p=product),
                current_state=STATE,
                target_indicators=TARGETS,
                budget=Demand.Budget.FROM_50K,
                deadline=None,
                confidentiality=Demand.Confidentiality.PUBLIC,
            ),
        )
        demand_submit(demand=demand, actor=actor)
        created += 1
    return created


def _quota_accounts(now: datetime) -> int:
    if User.objects.filter(username__startswith=QUOTA_PREFIX).exists():
        return 0
    start = (now - timedelta(days=2)).replace(hour=13, minute=5, second=0, microsecond=0)
    request = HttpRequest()
    request.COOKIES[DEVICE_COOKIE] = FARM_DEVICE
    request.META["REMOTE_ADDR"] = FARM_ADDRESS
    unusable = make_password(None)
    for i in range(QUOTA_ACCOUNTS):
        joined = start + timedelta(minutes=2 * i, seconds=i % 3)
        with transaction.atomic():
            user = User.objects.create(
                username=f"{QUOTA_PREFIX}{i + 1:02d}",
                password=unusable,
                display_name=f"农技员{i + 1:02d}",
                role=Role.WORKER,
                region_id=COUNTY,
                date_joined=joined,
            )
            TalentProfile.objects.create(
                user=user,
                region_id=COUNTY,
                created_at=joined,
                **{**QUOTA_PROFILE, "keywords": QUOTA_PROFILE["keywords"] + f" {i + 1}"},
            )
            print_ = footprint_record(request, user, Footprint.Kind.REGISTER)
            Footprint.objects.filter(pk=print_.pk).update(created_at=joined)
    return QUOTA_ACCOUNTS


def demo_integrity_seed(*, now: datetime | None = None) -> DemoIntegrity:
    """Plant the demo's gaming, scan, and have 成都市 confirm the first template flag."""
    now = now or timezone.now()
    demands = _template_family(now)
    accounts = _quota_accounts(now)
    # Scanned up to now: the demands were submitted a moment after `now`.
    integrity_scan_due()
    confirmed = 0
    reviewer = User.objects.filter(username="demo_staff_chengdu").first()
    planted = Demand.objects.filter(
        region_id=COUNTY, title__in=[TEMPLATE_TITLE.format(p=p) for p in PRODUCTS]
    ).values_list("pk", flat=True)
    first = (
        Flag.objects.filter(
            status=Flag.Status.OPEN, subject_type=Subject.DEMAND, subject_id__in=list(planted)
        )
        .order_by("subject_id")
        .first()
    )
    already = Flag.objects.filter(centre__region_id=COUNTY, status=Flag.Status.CONFIRMED).exists()
    if reviewer is not None and first is not None and not already:
        flag_decide(first, reviewer, "confirm", "同一模板批量发布，已电话核实", first.version)
        confirmed = 1
    return DemoIntegrity(
        demands=demands,
        accounts=accounts,
        flags=Flag.objects.filter(centre__region_id=COUNTY).count(),
        confirmed=confirmed,
    )
