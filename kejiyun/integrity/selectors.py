"""Reads of the integrity app for pages: which flags a user may see (their jurisdiction; 404
outside), the counts per kind, and the evidence as links to the records the viewer may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, QuerySet
from django.http import Http404
from django.urls import reverse

from kejiyun.accounts.models import User
from kejiyun.cases.models import Case
from kejiyun.demands.models import Demand
from kejiyun.integrity.models import Flag, Kind, Subject
from kejiyun.regions.selectors import jurisdiction_filter

# Evidence figures shown on a flag's page, with their Chinese labels (in this order); keys
# not listed are shown under 其他.
EVIDENCE_LABELS: dict[str, str] = {
    "similarity": "最高相似度",
    "family_size": "同一模板的需求数",
    "organisations": "涉及单位数",
    "days_apart": "与原需求相隔天数",
    "boilerplate_share": "套话比例",
    "bot_reads": "可疑阅读次数",
    "reads": "窗口内阅读次数",
    "fast": "过快读完次数",
    "shared_device": "共用设备的阅读次数",
    "regular_group": "机械规律的阅读次数",
    "device_accounts": "同一设备注册的账号数",
    "network_accounts": "同一网络注册的账号数",
    "template_accounts": "资料相同的账号数",
}
SIGNAL_LABELS = {"device": "同一设备", "template": "模板资料", "rhythm": "注册节奏机械"}
LINKED = {"demands": Subject.DEMAND, "closest": Subject.DEMAND, "cases": Subject.CASE}


def flags_for(user: User) -> QuerySet[Flag]:
    """The flags of the centres in `user`'s jurisdiction (every flag for an administrator)."""
    qs = Flag.objects.select_related("centre", "centre__region", "decided_by")
    if user.sees_everything:
        return qs
    return jurisdiction_filter(qs, user=user, region_field="centre__region")


def access_flag(user: User, flag_id: int) -> Flag:
    try:
        return flags_for(user).get(pk=flag_id)
    except Flag.DoesNotExist:
        raise Http404("标记不存在或不在您的辖区内") from None


def flags_filtered(
    qs: QuerySet[Flag],
    *,
    kind: str = "",
    status: str = "",
    centre: int | None = None,
    month: date | None = None,
) -> QuerySet[Flag]:
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    if centre is not None:
        qs = qs.filter(centre_id=centre)
    if month is not None:
        qs = qs.filter(day__year=month.year, day__month=month.month)
    return qs


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    open: int
    confirmed: int
    cleared: int

    @property
    def total(self) -> int:
        return self.open + self.confirmed + self.cleared


def kind_counts(qs: QuerySet[Flag]) -> list[KindCount]:
    """Flags per kind and status of `qs`, every kind listed."""
    counts: dict[tuple[str, str], int] = {
        (kind, status): n
        for kind, status, n in qs.values_list("kind", "status").annotate(n=Count("pk")).order_by()
    }
    return [
        KindCount(
            kind=value,
            label=str(label),
            open=counts.get((value, Flag.Status.OPEN), 0),
            confirmed=counts.get((value, Flag.Status.CONFIRMED), 0),
            cleared=counts.get((value, Flag.Status.CLEARED), 0),
        )
        for value, label in Kind.choices
    ]


@dataclass(frozen=True)
class Link:
    label: str
    url: str  # "" when the viewer may not see the record


def _visible(user: User, subject: str, ids: set[int]) -> set[int]:
    if not ids:
        return set()
    if subject == Subject.DEMAND:
        demands = Demand.objects.filter(pk__in=ids)
        return set(
            jurisdiction_filter(demands, user=user, region_field="region").values_list(
                "pk", flat=True
            )
        )
    if subject == Subject.CASE:
        cases = Case.objects.filter(pk__in=ids)
        return set(
            jurisdiction_filter(cases, user=user, region_field="region").values_list(
                "pk", flat=True
            )
        )
    return set()


def _url(subject: str, pk: int) -> str:
    if subject == Subject.DEMAND:
        return reverse("demands:staff_detail", args=[pk])
    if subject == Subject.CASE:
        return reverse("cases:detail", args=[pk])
    return ""


SUBJECT_NAMES: dict[str, str] = {
    Subject.DEMAND.value: "需求",
    Subject.CASE.value: "案例",
    Subject.ACCOUNT.value: "账号",
}


def _label(subject: str, pk: int) -> str:
    return f"{SUBJECT_NAMES.get(subject, subject)} #{pk}"


@dataclass(frozen=True)
class FlagView:
    subject: Link
    records: list[Link]
    figures: list[tuple[str, str]]
    related_accounts: int


def _show(key: str, value: object) -> str:
    if key in ("similarity", "boilerplate_share") and isinstance(value, int | float):
        return f"{value:.2f}" if key == "similarity" else f"{round(value * 100)}%"
    if key == "signals" and isinstance(value, list):
        return "、".join(SIGNAL_LABELS.get(str(v), str(v)) for v in value)
    if isinstance(value, list):
        return f"{len(value)} 项"
    return str(value)


def flag_view(user: User, flag: Flag) -> FlagView:
    """The flag's subject and evidence as links the viewer may follow (records outside their
    jurisdiction are named by number only) and its figures. Never personal data."""
    evidence = flag.evidence or {}
    wanted: dict[str, set[int]] = {Subject.DEMAND: set(), Subject.CASE: set()}
    if flag.subject_type in wanted:
        wanted[flag.subject_type].add(flag.subject_id)
    listed: list[tuple[str, int]] = []
    for key, subject in LINKED.items():
        raw = evidence.get(key)
        values = raw if isinstance(raw, list) else [raw] if isinstance(raw, int) else []
        for value in values:
            own = (subject, value) == (flag.subject_type, flag.subject_id)
            if isinstance(value, int) and (subject, value) not in listed and not own:
                listed.append((subject, value))
                wanted[subject].add(value)
    visible = {subject: _visible(user, subject, ids) for subject, ids in wanted.items()}

    def link(subject: str, pk: int) -> Link:
        seen = pk in visible.get(subject, set())
        return Link(_label(subject, pk), _url(subject, pk) if seen else "")

    figures = [
        (EVIDENCE_LABELS[k], _show(k, evidence[k])) for k in EVIDENCE_LABELS if k in evidence
    ]
    if "signals" in evidence:
        figures.insert(0, ("命中的信号", _show("signals", evidence["signals"])))
    accounts = evidence.get("accounts")
    return FlagView(
        subject=link(flag.subject_type, flag.subject_id),
        records=[link(subject, pk) for subject, pk in listed],
        figures=figures,
        related_accounts=len(accounts) if isinstance(accounts, list) else 0,
    )
