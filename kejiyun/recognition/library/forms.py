"""The case library's search and filters: the demand hall's form (search, category, field,
industry, city and county) with the library's own filters added (discipline, rating,
recognition level, year). Anything unknown is dropped, never an error."""

from __future__ import annotations

from typing import Any

from django import forms

from kejiyun.common.levels import Level
from kejiyun.demands.forms import HallForm
from kejiyun.recognition.library.selectors import RECOGNISED, LibraryFilters
from kejiyun.talent.models import Discipline

RATING_CHOICES = [("", "不限评分"), ("5", "5 分"), ("4", "4 分及以上"), ("3", "3 分及以上")]
LEVEL_CHOICES = [
    ("", "全部案例"),
    (RECOGNISED, "已获认定"),
    (Level.TYPICAL.value, "典型案例"),
    (Level.PREMIUM.value, "精品案例"),
]


class LibraryForm(HallForm):
    budget = None  # type: ignore[assignment]  # the library shows no budget
    discipline = forms.ChoiceField(label="学科", required=False)
    rating = forms.TypedChoiceField(
        label="满意度", required=False, choices=RATING_CHOICES, coerce=int, empty_value=None
    )
    level = forms.ChoiceField(label="认定等级", required=False, choices=LEVEL_CHOICES)
    year = forms.TypedChoiceField(label="办结年度", required=False, coerce=int, empty_value=None)

    def __init__(self, data: Any, *, industries: list[str], years: list[int]) -> None:
        super().__init__(data, industries=industries)
        disciplines = Discipline.objects.filter(level=1).order_by("code")
        discipline = self.fields["discipline"]
        assert isinstance(discipline, forms.ChoiceField)
        discipline.choices = [("", "全部学科"), *[(d.code, d.name) for d in disciplines]]
        year = self.fields["year"]
        assert isinstance(year, forms.ChoiceField)
        year.choices = [("", "全部年度"), *[(str(y), f"{y} 年") for y in years]]

    def library_filters(self) -> LibraryFilters:
        """The checked filters; a field that did not check out is left out."""
        hall = self.filters()
        data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        return LibraryFilters(
            query=hall.query,
            category=hall.category,
            section=hall.section,
            discipline=data.get("discipline", ""),
            industry=hall.industry,
            region=hall.region,
            rating=data.get("rating"),
            level=data.get("level", ""),
            year=data.get("year"),
        )
