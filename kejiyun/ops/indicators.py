"""The indicator catalogue: every figure the operations pages, bulletins and scoring read.

Each indicator is computed per service centre and day from the platform's own records; the
exact definitions (what counts, at which date, for which centre) are in
docs/ops-indicators.md and in the compute functions (`kejiyun/ops/compute.py`), one per key.
This module only names them, says how their rows add up and which direction is better, so
that pages can show, rank and compare figures without knowing how they are computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    COUNT = "count"  # a number of records: num
    AMOUNT = "amount"  # a sum of money in yuan: num
    MEAN = "mean"  # num / den
    SHARE = "share"  # num / den, shown as a percentage
    MEDIAN = "median"  # the median of the samples


class Group(StrEnum):
    REGISTRATION = "registration"
    DEMANDS = "demands"
    CASES = "cases"
    PLANS = "plans"
    POPSCI = "popsci"
    EVENTS = "events"
    GAMING = "gaming"


GROUP_NAMES: dict[Group, str] = {
    Group.REGISTRATION: "注册",
    Group.DEMANDS: "需求",
    Group.CASES: "一单一策",
    Group.PLANS: "一人一策",
    Group.POPSCI: "精准科普",
    Group.EVENTS: "对接活动",
    Group.GAMING: "疑似刷量",
}


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str
    group: Group
    kind: Kind
    unit: str = ""
    # +1 when a higher figure is better, -1 when lower is better, 0 when neither (ranking and
    # "lagging" use it; a neutral indicator is never called lagging).
    better: int = 1

    @property
    def is_ratio(self) -> bool:
        return self.kind in (Kind.MEAN, Kind.SHARE)


CATALOGUE: tuple[Indicator, ...] = (
    Indicator("workers_registered", "科技工作者注册", Group.REGISTRATION, Kind.COUNT, "人"),
    Indicator("workers_verified", "科技工作者核验通过", Group.REGISTRATION, Kind.COUNT, "人"),
    Indicator("enterprises_registered", "企业注册", Group.REGISTRATION, Kind.COUNT, "家"),
    Indicator("citizens_registered", "公众注册", Group.REGISTRATION, Kind.COUNT, "人"),
    Indicator("teams_created", "团队与工作室", Group.REGISTRATION, Kind.COUNT, "个"),
    Indicator("demands_published", "需求发布", Group.DEMANDS, Kind.COUNT, "项"),
    Indicator("demands_returned", "需求退回", Group.DEMANDS, Kind.COUNT, "项", better=0),
    Indicator("cases_opened", "立案", Group.CASES, Kind.COUNT, "件"),
    Indicator(
        "first_response_hours", "首次响应时长中位数", Group.CASES, Kind.MEDIAN, "工作小时", -1
    ),
    Indicator("cases_closed", "结案", Group.CASES, Kind.COUNT, "件"),
    Indicator("closed_on_time_share", "按时结案率", Group.CASES, Kind.SHARE),
    Indicator("solved_with_evidence", "有佐证的解决", Group.CASES, Kind.COUNT, "件"),
    Indicator("contract_amount", "合同金额", Group.CASES, Kind.AMOUNT, "元"),
    Indicator("satisfaction_mean", "满意度均分", Group.CASES, Kind.MEAN, "分"),
    Indicator("rated_share", "评价率", Group.CASES, Kind.SHARE),
    Indicator("escalations", "超时升级", Group.CASES, Kind.COUNT, "次", -1),
    Indicator("unowned_cases", "无人认领案例", Group.CASES, Kind.COUNT, "件", -1),
    Indicator("dockings_sent", "对接邀请", Group.CASES, Kind.COUNT, "次"),
    Indicator("dockings_accepted", "对接接受", Group.CASES, Kind.COUNT, "次"),
    Indicator("dockings_declined", "对接婉拒", Group.CASES, Kind.COUNT, "次", 0),
    Indicator("plans_with_actions_done", "有事项完成的服务方案", Group.PLANS, Kind.COUNT, "份"),
    Indicator("popsci_published", "科普内容发布", Group.POPSCI, Kind.COUNT, "篇"),
    Indicator("campaign_reach", "推送触达", Group.POPSCI, Kind.COUNT, "人次"),
    Indicator("read_to_end_share", "读完率", Group.POPSCI, Kind.SHARE),
    Indicator("quiz_accuracy_before", "学前答题正确率", Group.POPSCI, Kind.SHARE, "", 0),
    Indicator("quiz_accuracy_after", "学后答题正确率", Group.POPSCI, Kind.SHARE),
    Indicator("activity_attendance", "活动签到", Group.POPSCI, Kind.COUNT, "人次"),
    Indicator("event_exhibits", "活动入选展项", Group.EVENTS, Kind.COUNT, "项"),
    Indicator("event_meetings", "活动现场对接", Group.EVENTS, Kind.COUNT, "人次"),
    Indicator("event_agreements", "活动现场签约", Group.EVENTS, Kind.COUNT, "项"),
    Indicator("event_amount", "活动签约金额", Group.EVENTS, Kind.AMOUNT, "元"),
    Indicator("demands_flagged", "重复或模板化需求", Group.GAMING, Kind.COUNT, "项", -1),
    Indicator("bot_reads", "疑似机器阅读", Group.GAMING, Kind.COUNT, "次", -1),
    Indicator("suspect_accounts", "疑似刷量账号", Group.GAMING, Kind.COUNT, "个", -1),
    Indicator("gaming_confirmed", "确认的刷量记录", Group.GAMING, Kind.COUNT, "条", -1),
)

BY_KEY: dict[str, Indicator] = {i.key: i for i in CATALOGUE}


def indicator(key: str) -> Indicator:
    """The indicator named `key`; KeyError for a key not in the catalogue."""
    return BY_KEY[key]
