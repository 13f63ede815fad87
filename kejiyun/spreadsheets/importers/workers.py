"""Importer for S&T workers registered on paper (线下登记的科技工作者).

Natural key: the mobile number. Each new worker gets an account with no usable password
(username m<mobile>); they claim it later through the SMS password reset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kejiyun.accounts.models import Role, User
from kejiyun.accounts.validators import (
    normalise_id_number,
    normalise_mobile,
    validate_id_number,
    validate_mobile,
)
from kejiyun.common.crypto import lookup_hash, seal
from kejiyun.matchlog.services import EXPERTS, index_change_record
from kejiyun.regions.models import Region
from kejiyun.spreadsheets.importers.base import RowOutcome, RowReader
from kejiyun.spreadsheets.selectors import counties_for_import
from kejiyun.spreadsheets.workbooks import Column, SheetRow
from kejiyun.talent.models import ID_NUMBER_PURPOSE, TalentProfile

NAME = Column("姓名", required=True, note="40字以内。", example="张三", width=12)
MOBILE = Column(
    "手机号",
    required=True,
    note="11位中国大陆手机号；本人日后凭此号码通过短信找回密码登录。已登记的号码会跳过。",
    example="13800001234",
    width=16,
    text=True,
)
ID_NUMBER = Column(
    "身份证号",
    note="18位居民身份证号码（选填），请以文本格式填写，末位X大写。",
    example="（选填）",
    width=22,
    text=True,
)
COUNTY = Column(
    "所在区县代码",
    required=True,
    note="所在区县的6位行政区划代码，必须在您所在服务中心的辖区内。",
    example="510104",
    width=14,
    text=True,
)
EMPLOYER = Column("工作单位", note="120字以内。", example="四川大学", width=24)
TITLE = Column("职称", note="40字以内。", example="教授")
FIELDS = Column("专业领域", note="200字以内，多个领域用顿号分隔。", example="电子信息、机器视觉")
KEYWORDS = Column("关键词", note="300字以内，多个关键词用顿号分隔。", example="缺陷检测、深度学习")
CAPABILITY = Column("能力描述", note="能提供的技术服务。", width=40)

COLUMNS = (NAME, MOBILE, ID_NUMBER, COUNTY, EMPLOYER, TITLE, FIELDS, KEYWORDS, CAPABILITY)


@dataclass(frozen=True)
class WorkerRecord:
    display_name: str
    mobile: str
    id_number: str
    county: Region
    employer: str
    title: str
    fields: str
    keywords: str
    capability: str


def username_for(mobile: str) -> str:
    """The username of an account created for a mobile number (as self-registration does)."""
    return f"m{mobile}"


class WorkerImporter:
    kind: str = "workers"
    title: str = "科技工作者"
    sheet_title: str = "科技工作者"
    object_type: str = "talent_profile"
    columns: tuple[Column, ...] = COLUMNS

    def check(self, rows: Sequence[SheetRow], *, user: User) -> list[RowOutcome]:
        counties = counties_for_import(user=user)
        mobiles = {normalise_mobile(row.get(MOBILE.header)) for row in rows} - {""}
        by_mobile = dict(User.objects.filter(mobile__in=mobiles).values_list("mobile", "role"))
        taken_usernames = set(
            User.objects.filter(username__in=[username_for(m) for m in mobiles]).values_list(
                "username", flat=True
            )
        )
        id_hashes = {
            lookup_hash(n, purpose=ID_NUMBER_PURPOSE)
            for n in (normalise_id_number(row.get(ID_NUMBER.header)) for row in rows)
            if n
        }
        # Registered ID numbers are found by their keyed hash: the numbers are sealed.
        id_owner = dict(
            TalentProfile.objects.filter(id_number_hash__in=id_hashes).values_list(
                "id_number_hash", "user__mobile"
            )
        )
        seen_mobiles: dict[str, int] = {}
        seen_ids: dict[str, int] = {}
        outcomes = []
        for row in rows:
            reader = RowReader(row)
            name = reader.text(NAME, max_length=40)
            mobile = normalise_mobile(row.get(MOBILE.header))
            mobile_ok = reader.validated(MOBILE, value=mobile, validator=validate_mobile)
            id_number = normalise_id_number(row.get(ID_NUMBER.header))
            if id_number and reader.validated(
                ID_NUMBER, value=id_number, validator=validate_id_number
            ):
                id_hash = lookup_hash(id_number, purpose=ID_NUMBER_PURPOSE)
                if id_number in seen_ids:
                    reader.error(ID_NUMBER.header, f"与第{seen_ids[id_number]}行重复")
                elif id_hash in id_owner and id_owner[id_hash] != mobile:
                    reader.error(ID_NUMBER.header, "该身份证号已登记在另一位科技工作者名下")
                else:
                    seen_ids[id_number] = row.number
            code = row.get(COUNTY.header)
            county = None
            if not code:
                reader.error(COUNTY.header, "必填，不能为空")
            elif (problem := counties.problem(code)) is not None:
                reader.error(COUNTY.header, problem)
            else:
                county = counties.allowed[code]
            employer = reader.text(EMPLOYER, max_length=120)
            title = reader.text(TITLE, max_length=40)
            fields = reader.text(FIELDS, max_length=200)
            keywords = reader.text(KEYWORDS, max_length=300)
            if mobile_ok:
                if mobile in seen_mobiles:
                    reader.error(MOBILE.header, f"与第{seen_mobiles[mobile]}行重复")
                else:
                    seen_mobiles[mobile] = row.number
                role = by_mobile.get(mobile)
                if role is not None and role != Role.WORKER:
                    reader.error(MOBILE.header, "该手机号已被其他类型的账号使用")
                elif role is None and username_for(mobile) in taken_usernames:
                    reader.error(MOBILE.header, "该手机号对应的账号名已被占用，请联系管理员")
                reader.outcome.exists = role == Role.WORKER
            if not reader.outcome.issues and county is not None:
                reader.outcome.record = WorkerRecord(
                    display_name=name,
                    mobile=mobile,
                    id_number=id_number,
                    county=county,
                    employer=employer,
                    title=title,
                    fields=fields,
                    keywords=keywords,
                    capability=row.get(CAPABILITY.header),
                )
            outcomes.append(reader.outcome)
        return outcomes

    def create(self, record: object, *, actor: User) -> None:
        assert isinstance(record, WorkerRecord)
        user = User(
            username=username_for(record.mobile),
            display_name=record.display_name,
            mobile=record.mobile,
            role=Role.WORKER,
            region=record.county,
        )
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        profile = TalentProfile(
            user=user,
            region=record.county,
            employer=record.employer,
            title=record.title,
            fields=record.fields,
            keywords=record.keywords,
            capability=record.capability,
            id_number_sealed=seal(record.id_number, purpose=ID_NUMBER_PURPOSE),
            id_number_hash=lookup_hash(record.id_number, purpose=ID_NUMBER_PURPOSE),
        )
        profile.full_clean(exclude=["user"])
        profile.save()
        index_change_record(kind=EXPERTS, object_ids=[profile.pk])
