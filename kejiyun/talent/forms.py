"""Forms for the supply side. They check and normalise input, then hand dataclasses to the
services; fields a worker may not set (region, verification, owner) are not on them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from kejiyun.accounts.models import Organisation, User
from kejiyun.accounts.validators import is_valid_mobile, normalise_mobile, normalise_uscc
from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.regions.models import Region
from kejiyun.regions.widgets import RegionMultiPicker, RegionPicker
from kejiyun.talent.models import (
    DuplicateTicket,
    Resource,
    ServiceMode,
    TalentProfile,
    Team,
    TechResult,
)
from kejiyun.talent.selectors import (
    disciplines_by_codes,
    industries_by_codes,
    talent_by_mobile,
    talent_in_jurisdiction,
)
from kejiyun.talent.services import (
    REGISTERED_ELSEWHERE,
    ProfileData,
    ResourceData,
    ResultData,
    TeamData,
    duplicate_ticket_open,
)
from kejiyun.talent.widgets import ClassificationField


class _RegionChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        depth = max(0, len(obj.ancestor_codes) - 1)
        return f"{'　' * depth}{obj.name}"


class _CountyChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        parent = obj.parent.name if obj.parent_id else ""
        return f"{parent} {obj.name}"


class ProfileForm(BootstrapFormMixin, forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    employer = forms.CharField(label="工作单位", max_length=120, required=False)
    title = forms.CharField(label="职称", max_length=40, required=False)
    fields_text = forms.CharField(
        label="专业领域", max_length=200, required=False, help_text="多个领域用逗号分隔"
    )
    keywords = forms.CharField(label="关键词", max_length=300, required=False)
    capability = forms.CharField(
        label="能力描述", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    disciplines = ClassificationField(
        "discipline",
        label="学科",
        required=False,
        help_text="输入学科名称搜索，或按类展开勾选，可多选",
    )
    industries = ClassificationField(
        "industry",
        label="服务行业",
        required=False,
        help_text="输入行业名称搜索，或按类展开勾选，可多选",
    )
    service_modes = forms.TypedMultipleChoiceField(
        label="服务方式",
        coerce=int,
        choices=ServiceMode.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="可多选",
    )
    regions_served = _RegionChoice(
        label="服务地区",
        queryset=Region.objects.none(),
        required=False,
        widget=RegionMultiPicker,
        help_text="搜索或逐级选择后点“添加所选地区”，可添加多个",
    )
    capacity = forms.IntegerField(
        label="可同时承接的服务项目数", min_value=0, max_value=50, initial=3
    )

    def __init__(self, *args: Any, regions: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["regions_served"].queryset = regions  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, profile: TalentProfile) -> dict[str, Any]:
        return {
            "version": profile.version,
            "employer": profile.employer,
            "title": profile.title,
            "fields_text": profile.fields,
            "keywords": profile.keywords,
            "capability": profile.capability,
            "disciplines": [d.code for d in profile.disciplines.all()],
            "industries": [i.code for i in profile.industries.all()],
            "service_modes": profile.service_mode_values,
            "regions_served": list(profile.regions_served.all()),
            "capacity": profile.capacity,
        }

    def clean_disciplines(self) -> list[Any]:
        codes: list[str] = self.cleaned_data["disciplines"]
        found = list(disciplines_by_codes(codes))
        unknown = sorted(set(codes) - {d.code for d in found})
        if unknown:
            raise forms.ValidationError(f"未知的学科代码：{'、'.join(unknown)}")
        return found

    def clean_industries(self) -> list[Any]:
        codes: list[str] = self.cleaned_data["industries"]
        found = list(industries_by_codes(codes))
        unknown = sorted(set(codes) - {i.code for i in found})
        if unknown:
            raise forms.ValidationError(f"未知的行业代码：{'、'.join(unknown)}")
        return found

    def to_data(self) -> ProfileData:
        d = self.cleaned_data
        return ProfileData(
            employer=d["employer"].strip(),
            title=d["title"].strip(),
            fields=d["fields_text"].strip(),
            keywords=d["keywords"].strip(),
            capability=d["capability"].strip(),
            service_modes=d["service_modes"],
            capacity=d["capacity"],
            disciplines=d["disciplines"],
            industries=d["industries"],
            regions_served=list(d["regions_served"]),
        )


class ResultForm(BootstrapFormMixin, forms.Form):
    owner = forms.ChoiceField(label="所属", choices=[("", "本人")], required=False)
    kind = forms.ChoiceField(label="类型", choices=TechResult.Kind.choices)
    title = forms.CharField(label="名称", max_length=200)
    identifier = forms.CharField(
        label="编号", max_length=64, required=False, help_text="如专利号、标准号、品种审定号"
    )
    year = forms.IntegerField(label="年份", min_value=1900, max_value=2100, required=False)
    fields_text = forms.CharField(label="领域", max_length=200, required=False)
    for_transfer = forms.BooleanField(label="可转化（愿意转让、许可或合作实施）", required=False)
    transfer_mode = forms.ChoiceField(
        label="转化方式", choices=TechResult.TransferMode.choices, required=False
    )
    summary = forms.CharField(
        label="简介", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, teams: list[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._teams = {str(t.pk): t for t in teams}
        self.fields["owner"].choices = [("", "本人")] + [  # type: ignore[attr-defined]
            (str(t.pk), t.name) for t in teams
        ]
        if not teams:
            del self.fields["owner"]

    @classmethod
    def initial_for(cls, result: TechResult) -> dict[str, Any]:
        return {
            "owner": str(result.owner_team_id or ""),
            "kind": result.kind,
            "title": result.title,
            "identifier": result.identifier,
            "year": result.year,
            "fields_text": result.fields,
            "for_transfer": result.for_transfer,
            "transfer_mode": result.transfer_mode,
            "summary": result.summary,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("transfer_mode") and not data.get("for_transfer"):
            self.add_error("transfer_mode", "未勾选“可转化”时不能选择转化方式。")
        return data

    def team(self) -> Team | None:
        return self._teams.get(self.cleaned_data.get("owner") or "")

    def to_data(self) -> ResultData:
        d = self.cleaned_data
        return ResultData(
            kind=d["kind"],
            title=d["title"].strip(),
            identifier=d["identifier"].strip(),
            year=d["year"],
            for_transfer=d["for_transfer"],
            transfer_mode=d["transfer_mode"],
            summary=d["summary"].strip(),
            fields=d["fields_text"].strip(),
        )


class TeamForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label="类型", choices=Team.Kind.choices)
    name = forms.CharField(label="名称", max_length=120)
    region = _CountyChoice(label="所在区县", queryset=Region.objects.none(), widget=RegionPicker)
    fields_text = forms.CharField(label="专业领域", max_length=200, required=False)
    keywords = forms.CharField(label="关键词", max_length=300, required=False)
    description = forms.CharField(
        label="简介", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: Any, counties: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = counties  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, team: Team) -> dict[str, Any]:
        return {
            "kind": team.kind,
            "name": team.name,
            "region": team.region_id,
            "fields_text": team.fields,
            "keywords": team.keywords,
            "description": team.description,
        }

    def to_data(self, *, host_organisation: Organisation | None = None) -> TeamData:
        d = self.cleaned_data
        return TeamData(
            kind=d["kind"],
            name=d["name"].strip(),
            region=d["region"],
            fields=d["fields_text"].strip(),
            keywords=d["keywords"].strip(),
            description=d["description"].strip(),
            host_organisation=host_organisation,
        )


def _profile_for_mobile(raw: str, *, user: User, ip: str | None) -> TalentProfile:
    """The worker registered with this number inside `user`'s jurisdiction. Outside it the
    answer is the same whichever county holds them, and a check goes to the level above."""
    mobile = normalise_mobile(raw)
    if not is_valid_mobile(mobile):
        raise forms.ValidationError("手机号格式不正确，请填写11位手机号。")
    profile = talent_by_mobile(mobile=mobile)
    if profile is None:
        raise forms.ValidationError("未找到使用该手机号注册的科技工作者。")
    if not talent_in_jurisdiction(user=user, profile=profile):
        duplicate_ticket_open(
            profile=profile, reporter=user, source=DuplicateTicket.Source.RESOURCE, ip=ip
        )
        raise forms.ValidationError(REGISTERED_ELSEWHERE)
    return profile


class _ExpertChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.user.display_name}（{obj.user.masked_mobile or '—'}）"


class MemberForm(BootstrapFormMixin, forms.Form):
    """A member is named by both their name and their mobile number, and an unknown number
    and a wrong name get the same answer, so the form cannot be used to find out who owns a
    number."""

    name = forms.CharField(label="成员姓名", max_length=40)
    mobile = forms.CharField(
        label="成员手机号",
        max_length=20,
        help_text="成员需已注册为科技工作者；加入后会收到站内信，可随时退出",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name = (data.get("name") or "").strip()
        mobile = normalise_mobile(data.get("mobile") or "")
        if self.errors:
            return data
        profile = talent_by_mobile(mobile=mobile) if is_valid_mobile(mobile) else None
        if profile is None or profile.user.display_name.strip() != name:
            raise forms.ValidationError("未找到姓名与手机号都相符的科技工作者。")
        data["member"] = profile
        return data


class ResourceForm(BootstrapFormMixin, forms.Form):
    kind = forms.ChoiceField(label="类型", choices=Resource.Kind.choices)
    name = forms.CharField(label="名称", max_length=120)
    region = _CountyChoice(label="所在区县", queryset=Region.objects.none(), widget=RegionPicker)
    address = forms.CharField(label="地址", max_length=200, required=False)
    host_uscc = forms.CharField(
        label="依托单位统一社会信用代码",
        max_length=18,
        required=False,
        help_text="已在平台登记的单位填写代码；否则填写下方的单位名称",
    )
    host_name = forms.CharField(label="依托单位名称", max_length=120, required=False)
    fields_text = forms.CharField(label="领域", max_length=200, required=False)
    capacity = forms.IntegerField(label="可容纳人数", min_value=0, required=False)
    kept_experts = _ExpertChoice(
        label="现有入驻专家",
        queryset=TalentProfile.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="取消勾选即移出",
    )
    expert_mobiles = forms.CharField(
        label="新增入驻专家手机号",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="每行一个，专家需已在本辖区注册为科技工作者",
    )

    def __init__(
        self,
        *args: Any,
        counties: QuerySet[Region],
        organisations: QuerySet[Organisation],
        user: User,
        experts: list[TalentProfile] | None = None,
        ip: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = counties  # type: ignore[attr-defined]
        self._organisations = organisations
        self._user, self._ip = user, ip
        if experts:
            # Experts are listed by name and masked number; they are never written out in full.
            self.fields["kept_experts"].queryset = TalentProfile.objects.filter(  # type: ignore[attr-defined]
                pk__in=[p.pk for p in experts]
            ).select_related("user")
        else:
            del self.fields["kept_experts"]

    @classmethod
    def initial_for(cls, resource: Resource, experts: list[TalentProfile]) -> dict[str, Any]:
        return {
            "kind": resource.kind,
            "name": resource.name,
            "region": resource.region_id,
            "address": resource.address,
            "host_uscc": resource.host_organisation.uscc if resource.host_organisation else "",
            "host_name": resource.host_name,
            "fields_text": resource.fields,
            "capacity": resource.capacity,
            "kept_experts": [p.pk for p in experts],
        }

    def clean_host_uscc(self) -> Organisation | None:
        raw = self.cleaned_data["host_uscc"].strip()
        if not raw:
            return None
        organisation = self._organisations.filter(uscc=normalise_uscc(raw)).first()
        if organisation is None:
            raise forms.ValidationError("辖区内没有使用该统一社会信用代码登记的单位。")
        return organisation

    def clean_expert_mobiles(self) -> list[TalentProfile]:
        experts: dict[int, TalentProfile] = {}
        for line in self.cleaned_data["expert_mobiles"].splitlines():
            if line.strip():
                profile = _profile_for_mobile(line.strip(), user=self._user, ip=self._ip)
                experts[profile.pk] = profile
        return list(experts.values())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        no_host = not data.get("host_uscc") and not (data.get("host_name") or "").strip()
        if no_host and "host_uscc" not in self.errors:
            self.add_error("host_name", "请填写依托单位统一社会信用代码或单位名称。")
        return data

    def to_data(self) -> ResourceData:
        d = self.cleaned_data
        return ResourceData(
            kind=d["kind"],
            name=d["name"].strip(),
            region=d["region"],
            host_organisation=d["host_uscc"],
            host_name=d["host_name"].strip(),
            address=d["address"].strip(),
            fields=d["fields_text"].strip(),
            capacity=d["capacity"],
            experts=list(
                {p.pk: p for p in [*d.get("kept_experts", []), *d["expert_mobiles"]]}.values()
            ),
        )
