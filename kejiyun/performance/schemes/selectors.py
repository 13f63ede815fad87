"""Reads for schemes: the figures a scheme scores, net of gaming, and the scores.

`scheme_measures` and `scheme_scores` are what the ranking, the formula page, the fund
allocation and its what-if read; they never write.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from kejiyun.ops.indicators import BY_KEY, Kind
from kejiyun.ops.periods import Period, PeriodError
from kejiyun.ops.selectors import Figure, figures_by_child
from kejiyun.performance.discounts import Removal, flag_word, removals
from kejiyun.performance.models import Normalisation, Scheme
from kejiyun.performance.roles import may_manage
from kejiyun.performance.scoring import (
    CentreMeasures,
    CentreScore,
    ItemSpec,
    Measure,
    SchemeError,
    score,
)
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.regions.selectors import jurisdiction_filter

VALUE_PLACES = Decimal("0.01")
ZERO = Decimal(0)

# What the what-if may change of an item: {indicator key: {field: value}}.
Overrides = Mapping[str, Mapping[str, Any]]


def schemes_visible(user: Any) -> QuerySet[Scheme]:
    """Published schemes for any staff member or administrator; drafts too for the scheme
    role on the province side (the people who may write them)."""
    qs = Scheme.objects.all()
    if not may_manage(user):
        qs = qs.filter(status=Scheme.Status.PUBLISHED)
    return qs


def scored_centres(level: str) -> QuerySet[ServiceCentre]:
    """The centres a scheme of `level` scores: every county (or city) centre of the
    deployment province, in region-code order."""
    region_level = Region.Level.COUNTY if level == Scheme.Level.COUNTY else Region.Level.CITY
    return (
        ServiceCentre.objects.filter(
            region__level=region_level,
            region__path__startswith=f"{settings.DEPLOYMENT_PROVINCE}/",
        )
        .select_related("region", "region__parent")
        .order_by("region__code")
    )


def item_specs(scheme: Scheme, overrides: Overrides | None = None) -> list[ItemSpec]:
    """The scheme's items as the scorer reads them, with `overrides` applied (see
    `scheme_measures`). SchemeError for an override naming an indicator not in the catalogue
    or a value that is not a number."""
    rows: dict[str, dict[str, Any]] = {
        item.indicator: {
            "weight": item.weight,
            "target": item.target,
            "normalisation": item.normalisation,
        }
        for item in scheme.items.all()
    }
    for key, change in (overrides or {}).items():
        if key not in BY_KEY:
            raise SchemeError(f"指标“{key}”不在指标目录中。")
        row = rows.setdefault(key, {"weight": None, "target": None, "normalisation": None})
        for name in ("weight", "target", "normalisation"):
            if name in change:
                row[name] = change[name]
    specs: list[ItemSpec] = []
    for key, row in rows.items():
        ind = BY_KEY.get(key)
        if ind is None:
            raise SchemeError(f"指标“{key}”不在指标目录中。")
        weight = _decimal(row["weight"], ind.name, "权重")
        if weight is None:
            raise SchemeError(f"指标“{ind.name}”缺少权重。")
        if weight == 0:
            continue  # a what-if drops an item by giving it no weight
        try:
            normalisation = Normalisation(row["normalisation"] or Normalisation.TARGET)
        except ValueError as exc:
            raise SchemeError(f"指标“{ind.name}”的计分方法无效。") from exc
        specs.append(
            ItemSpec(
                key=key,
                label=ind.name,
                weight=weight,
                normalisation=normalisation,
                target=_decimal(row["target"], ind.name, "目标值"),
                better=ind.better,
            )
        )
    return specs


def _decimal(value: Any, label: str, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError as exc:
        raise SchemeError(f"指标“{label}”的{what}不是有效数字。") from exc
    if not number.is_finite():
        raise SchemeError(f"指标“{label}”的{what}不是有效数字。")
    return number


def _value(figure: Figure, num: Decimal, den: int) -> Decimal | None:
    """The scored value of a figure from its numerator and denominator: counts and amounts
    as they are, means to 2 places, shares as a percentage to 2 places, medians to 2 places
    (medians carry samples, not num/den, and are never discounted)."""
    kind = figure.indicator.kind
    if kind in (Kind.COUNT, Kind.AMOUNT):
        return max(num, ZERO)
    if kind == Kind.MEDIAN:
        value = figure.value
        return None if value is None else Decimal(str(value)).quantize(VALUE_PLACES)
    if den <= 0:
        return None
    ratio = max(num, ZERO) / Decimal(den)
    if kind == Kind.SHARE:
        # A share never exceeds 100 %: when what is taken off does not match the rollup (a
        # record counted under another centre or day since), num can outrun den.
        ratio = min(ratio, Decimal(1)) * 100
    return ratio.quantize(VALUE_PLACES, rounding=ROUND_HALF_UP)


def measure(figure: Figure, removal: Removal | None, word: str) -> Measure:
    """A centre's raw value of one indicator and what the removal takes off it."""
    raw = _value(figure, figure.num, figure.den)
    if removal is None or (removal.num == 0 and removal.den == 0):
        return Measure(raw=raw, discount=ZERO, net=raw)
    net = _value(figure, figure.num - removal.num, figure.den - removal.den)
    # Taking gaming off never helps a centre: removing a flagged case that was late (or
    # unrated) would raise its on-time (or rated) share, so a ratio may only move the way
    # that lowers the score, and otherwise stays as it was.
    better = figure.indicator.better
    if (
        raw is not None
        and net is not None
        and ((better > 0 and net > raw) or (better < 0 and net < raw))
    ):
        net = raw
    discount = (raw or ZERO) - (net or ZERO)
    note = removal.note(word, ratio=figure.indicator.is_ratio)
    return Measure(raw=raw, discount=discount, net=net, discount_note=note)


def scheme_period(scheme: Scheme) -> Period:
    try:
        return Period.parse(scheme.period)
    except PeriodError as exc:
        raise SchemeError(f"考核期无效：{exc}") from exc


def scheme_measures(
    scheme: Scheme, overrides: Overrides | None = None
) -> tuple[list[ItemSpec], list[CentreMeasures]]:
    """The items and every scored centre's measures for `scheme`.

    The scored centres are all county centres of the deployment province for a county scheme,
    all city centres for a city scheme (a city's figures cover its whole area, as in the
    bulletins). Figures are those of the operations rollups for `scheme.period`, less the
    gaming `kejiyun.performance.discounts` takes off.

    `overrides` lets a what-if change items without saving anything:
    ``{indicator key: {"weight": Decimal, "target": Decimal | None, "normalisation": str}}``.
    Each field given replaces the saved one; fields left out keep the saved value. A key the
    scheme does not have adds an item (give it all three fields); a weight of 0 leaves the
    item out. Nothing is validated here beyond what `score` checks (weights need not sum to
    100 in a what-if); SchemeError for an unknown indicator or a value that is not a number.
    """
    items = item_specs(scheme, overrides)
    period = scheme_period(scheme)
    keys = [item.key for item in items]
    centres = list(scored_centres(scheme.level))
    figs: dict[str, dict[str, Figure]] = {}
    parents = sorted({c.region.parent_id for c in centres if c.region.parent_id})
    for parent in Region.objects.filter(code__in=parents).order_by("code"):
        figs.update(figures_by_child(parent, period, keys))
    taken = removals(period, {c.region.path: c.pk for c in centres}, scheme.discount_open_above)
    word = flag_word(scheme.discount_open_above)
    out: list[CentreMeasures] = []
    for centre in centres:
        mine = figs.get(centre.region_id, {})
        off = taken.get(centre.pk, {})
        measures = {
            key: measure(mine.get(key) or Figure(BY_KEY[key]), off.get(key), word) for key in keys
        }
        out.append(CentreMeasures(centre.pk, centre.region_id, centre.name, measures))
    return items, out


def scheme_scores(scheme: Scheme, overrides: Overrides | None = None) -> list[CentreScore]:
    """Every scored centre's score under `scheme` (with `overrides`, see `scheme_measures`),
    best first. SchemeError when the scheme cannot score."""
    return score(*scheme_measures(scheme, overrides))


def access_scheme(user: Any, scheme_id: int) -> Scheme:
    """The scheme when `user` may read it (published, or a draft for the scheme role); 404
    otherwise, so a draft looks like a scheme that does not exist."""
    scheme = schemes_visible(user).filter(pk=scheme_id).first()
    if scheme is None:
        raise Http404("页面不存在")
    return scheme


def visible_codes(user: Any, scheme: Scheme | str) -> set[str]:
    """Region codes of the scored centres of `scheme` (or of a scheme level) that `user` may
    see: all of them for an administrator, those in a staff member's jurisdiction
    otherwise."""
    centres = scored_centres(scheme.level if isinstance(scheme, Scheme) else scheme)
    if not user.sees_everything:
        centres = jurisdiction_filter(centres, user=user, region_field="region")
    return set(centres.values_list("region_id", flat=True))


def own_code(user: Any) -> str | None:
    """The region code of the viewer's own centre."""
    centre = user.centre if user.is_centre_staff else None
    return centre.region_id if centre is not None else None
