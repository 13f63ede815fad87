"""Edge validation for the content pages. Forms check input shape; services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from kejiyun.accounts.models import User
from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.popsci.content.services import (
    MAX_LESSONS,
    MAX_OPTIONS,
    MAX_QUESTIONS,
    LessonInput,
    QuestionInput,
)
from kejiyun.popsci.models import Article, Season, Segment, Topic
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import region_subtree, user_jurisdiction
from kejiyun.regions.widgets import RegionPicker


def regions_for_content(user: User) -> QuerySet[Region]:
    """Regions a staff member may tag content with: their jurisdiction's subtree, without
    townships unless they work at a county centre."""
    home = None if user.sees_everything else user_jurisdiction(user)
    if home is None and not user.sees_everything:
        return Region.objects.none()
    if home is None:
        qs = Region.objects.filter(
            level__in=[Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY]
        )
    else:
        qs = region_subtree(home)
        if home.level != Region.Level.COUNTY:
            qs = qs.exclude(level=Region.Level.TOWNSHIP)
    return qs.order_by("path")


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        region: Region = obj
        depth = region.path.count("/") - 1
        return f"{'　' * depth}{region.name}"


class ContentForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label="形式", choices=Article.Kind.choices)
    title = forms.CharField(label="标题", max_length=120)
    summary = forms.CharField(label="摘要", max_length=300, required=False)
    topic = forms.ChoiceField(label="主题", choices=Topic.choices)
    body = forms.CharField(
        label="正文",
        required=False,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text="提交审核前必须填写。空行分段。",
    )
    segments = forms.MultipleChoiceField(
        label="受众",
        choices=Segment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="不选表示所有人，可多选。",
    )
    seasons = forms.MultipleChoiceField(
        label="适用季节",
        choices=Season.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="不选表示全年。",
    )
    region = RegionChoiceField(
        label="适用地区", queryset=Region.objects.none(), required=False, widget=RegionPicker
    )
    image = forms.FileField(label="配图", required=False, help_text="JPEG 或 PNG，不超过 5 MB。")
    poster = forms.FileField(
        label="视频封面", required=False, help_text="JPEG 或 PNG，不超过 5 MB。"
    )
    video = forms.FileField(label="视频文件", required=False, help_text="MP4，不超过 200 MB。")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field: RegionChoiceField = self.fields["region"]  # type: ignore[assignment]
        region_field.queryset = regions_for_content(user)
        home = user_jurisdiction(user)
        if user.sees_everything or (home is not None and home.level == Region.Level.PROVINCE):
            region_field.empty_label = "全省通用"
        else:
            region_field.required = True
            region_field.empty_label = "请选择适用地区"
        for name in ("image", "poster", "video"):
            self.fields[name].widget.attrs["accept"] = (
                "video/mp4" if name == "video" else "image/jpeg,image/png"
            )

    @staticmethod
    def initial_from(article: Article) -> dict[str, Any]:
        return {
            "kind": article.kind,
            "title": article.title,
            "summary": article.summary,
            "topic": article.topic,
            "body": article.body,
            "segments": article.segments,
            "seasons": article.seasons,
            "region": article.region_id,
        }


class QuestionForm(BootstrapFormMixin, forms.Form):
    """One quiz question; a block left entirely blank is skipped."""

    text = forms.CharField(label="题目", max_length=300, required=False)
    options = forms.CharField(
        label="选项",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"每行一个选项，2 到 {MAX_OPTIONS} 个。",
    )
    answer = forms.IntegerField(
        label="正确答案是第几个选项", min_value=1, max_value=MAX_OPTIONS, required=False
    )
    explanation = forms.CharField(label="解析", max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        options = [line.strip() for line in (data.get("options") or "").splitlines()]
        data["option_list"] = [o for o in options if o]
        text = (data.get("text") or "").strip()
        blank = not text and not data["option_list"] and data.get("answer") is None
        data["blank"] = blank
        if not blank:
            if not text:
                self.add_error("text", "请填写题目。")
            if not 2 <= len(data["option_list"]) <= MAX_OPTIONS:
                self.add_error("options", f"需要 2 到 {MAX_OPTIONS} 个选项。")
            if data.get("answer") is None:
                self.add_error("answer", "请填写正确答案的序号。")
            elif data["answer"] > len(data["option_list"]):
                self.add_error("answer", "正确答案必须是其中一个选项。")
        return data

    def question(self) -> QuestionInput | None:
        data = self.cleaned_data
        if data.get("blank", True):
            return None
        return QuestionInput(
            text=data["text"],
            options=tuple(data["option_list"]),
            answer=data["answer"] - 1,
            explanation=data.get("explanation", ""),
        )


class LessonForm(BootstrapFormMixin, forms.Form):
    """One lesson of a course; a block left blank is skipped."""

    title = forms.CharField(label="章节标题", max_length=120, required=False)
    body = forms.CharField(
        label="章节内容", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        title = (data.get("title") or "").strip()
        body = (data.get("body") or "").strip()
        data["blank"] = not title and not body
        if not data["blank"] and not (title and body):
            raise ValidationError("请同时填写章节标题和内容。")
        return data

    def lesson(self) -> LessonInput | None:
        data = self.cleaned_data
        if data.get("blank", True):
            return None
        return LessonInput(title=data["title"], body=data["body"])


QuestionFormSet = forms.formset_factory(
    QuestionForm, extra=0, max_num=MAX_QUESTIONS, absolute_max=MAX_QUESTIONS, validate_max=True
)
LessonFormSet = forms.formset_factory(
    LessonForm, extra=0, max_num=MAX_LESSONS, absolute_max=MAX_LESSONS, validate_max=True
)


def question_initial(article: Article | None) -> list[dict[str, Any]]:
    """Existing questions, padded with blank blocks up to the maximum."""
    rows: list[dict[str, Any]] = []
    if article is not None:
        rows = [
            {
                "text": q.text,
                "options": "\n".join(str(o) for o in q.options),
                "answer": q.answer + 1,
                "explanation": q.explanation,
            }
            for q in article.questions.all()
        ]
    return rows + [{} for _ in range(MAX_QUESTIONS - len(rows))]


def lesson_initial(article: Article | None, *, spare: int = 3) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if article is not None:
        rows = [{"title": lesson.title, "body": lesson.body} for lesson in article.lessons.all()]
    return rows + [{} for _ in range(min(spare, MAX_LESSONS - len(rows)))]


class ReviewForm(BootstrapFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label="审核结论",
        choices=[("approve", "通过并发布"), ("return", "退回修改")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="审核意见",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="退回修改时必须填写。",
    )
