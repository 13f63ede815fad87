"""Importer for S&T workers registered on paper (线下登记的科技工作者).

Natural key: the mobile number (found by its keyed hash: numbers are sealed). Each new worker
gets an account with an opaque username and no usable password; they claim it later through
the SMS password reset and sign in with their number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kejiyun.accounts.models import Role, User
from kejiyun.accounts.services import username_new
from kejiyun.accounts.validators import (
    id_number_check_character,
    normalise_id_number,
    normalise_mobile,
    validate_id_number,
    validate_mobile,
)
from kejiyun.common.crypto import lookup_hash, mobile_lookup, seal
from kejiyun.matchlog.services import EXPERTS, index_change_record
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import user_jurisdiction
from kejiyun.spreadsheets.importers.base import RowOutcome, RowReader
from kejiyun.spreadsheets.selectors import counties_for_import
from kejiyun.spreadsheets.workbooks import Column, SheetRow
from kejiyun.talent.models import (
    ID_NUMBER_PURPOSE,
    Discipline,
    DuplicateTicket,
    Industry,
    ServiceMode,
    TalentProfile,
)
from kejiyun.talent.services import REGISTERED_ELSEWHERE, duplicate_ticket_open

# A valid example (the check character computed, as the importer checks it).
EXAMPLE_ID_NUMBER = "51010419900307241" + id_number_check_character("51010419900307241")

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
    example=EXAMPLE_ID_NUMBER,
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
CAPABILITY = Column(
    "能力描述",
    note="能提供的技术服务。",
    example="为电子企业提供电路板缺陷视觉检测方案，并到产线现场调试。",
    width=40,
)
DISCIPLINES = Column(
    "学科",
    note="国家自然科学基金申请代码中的学科名称或代码（如“图像理解与识别”或“F0116”），"
    "多个用顿号分隔。名称对应多个学科时请填写代码。",
    example="图像理解与识别、F0202",
    width=28,
)
INDUSTRIES = Column(
    "服务行业",
    note="国民经济行业分类（GB/T 4754-2017）中的行业名称或代码（如“应用软件开发”或"
    "“6513”），多个用顿号分隔。",
    example="应用软件开发、3973",
    width=28,
)
SERVICE_MODES = Column(
    "服务方式",
    note=f"从{'、'.join(str(label) for label in ServiceMode.labels)}中选填一个或多个，用顿号分隔。",
    example="咨询、现场指导",
    width=20,
)

COLUMNS = (
    NAME,
    MOBILE,
    ID_NUMBER,
    COUNTY,
    EMPLOYER,
    TITLE,
    FIELDS,
    KEYWORDS,
    CAPABILITY,
    DISCIPLINES,
    INDUSTRIES,
    SERVICE_MODES,
)

# Between entries: commas, semicolons, new lines; and 顿号 unless it is part of a name
# ("酒、饮料和精制茶制造业").
_ENTRY_SEPARATORS = re.compile(r"[，,；;\n]+")
_CODE_FIRST = re.compile(r"^([A-Za-z]?\d+|[A-Za-z])\s*(.*)$")


class Classification:
    """A classification (disciplines or industries) looked up by code or by Chinese name."""

    def __init__(self, label: str, rows: Iterable[tuple[str, str]]) -> None:
        self.label = label
        self.names: dict[str, str] = {}
        self.codes_by_name: dict[str, list[str]] = {}
        for code, name in rows:
            self.names[code] = name.strip()
            self.codes_by_name.setdefault(name.strip(), []).append(code)

    def _code(self, term: str) -> str | None:
        """The code `term` names: a code (case aside, an industry code may carry its section
        letter: A0164), a name, or a code followed by its name ("F0116 图像理解与识别")."""
        upper = term.upper()
        if upper in self.names:
            return upper
        if upper[:1].isalpha() and upper[1:] in self.names and upper[1:].isdigit():
            return upper[1:]
        codes = self.codes_by_name.get(term, [])
        if len(codes) == 1:
            return codes[0]
        if codes:
            # A class and its own subclass may share a name (industry 45 and 451, both
            # 燃气生产和供应业): one line of descent names one thing, the narrowest.
            deepest = max(codes, key=len)
            if all(deepest.startswith(code) for code in codes):
                return deepest
        match = _CODE_FIRST.match(term)
        if match and match.group(2):
            code = self._code(match.group(1))
            if code is not None and self.names[code] == match.group(2).strip():
                return code
        return None

    def resolve(self, value: str) -> tuple[list[str], list[str]]:
        """(codes, problems) for a cell listing entries by code or name."""
        codes: list[str] = []
        problems: list[str] = []
        for entry in _ENTRY_SEPARATORS.split(value):
            parts = entry.split("、")
            start = 0
            while start < len(parts):
                # The longest run of parts that names one entry, so a name with a 顿号 in it
                # stays whole.
                for end in range(len(parts), start, -1):
                    code = self._code("、".join(parts[start:end]).strip())
                    if code is not None:
                        codes.append(code)
                        start = end
                        break
                else:
                    term = parts[start].strip()
                    start += 1
                    if not term:
                        continue
                    if len(self.codes_by_name.get(term, [])) > 1:
                        listed = "、".join(self.codes_by_name[term])
                        problems.append(f"“{term}”对应多个{self.label}（{listed}），请填写代码")
                    else:
                        problems.append(f"找不到{self.label}“{term}”，请填写{self.label}名称或代码")
        return list(dict.fromkeys(codes)), problems


_MODES = {str(label): value for value, label in ServiceMode.choices}
_MODES.update({str(value): value for value in ServiceMode.values})


def service_modes_read(value: str) -> tuple[int, list[str]]:
    """(ServiceMode values OR-ed, problems) for a cell listing modes by name (or value)."""
    modes = 0
    problems = []
    for term in re.split(r"[、，,；;\s]+", value):
        if not term:
            continue
        if term in _MODES:
            modes |= _MODES[term]
        else:
            labels = "、".join(str(label) for label in ServiceMode.labels)
            problems.append(f"服务方式“{term}”不正确，请从{labels}中选填")
    return modes, problems


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
    disciplines: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    service_modes: int = 0


def _in_jurisdiction(user: User, path: str | None) -> bool:
    """Whether a record in the region at `path` lies in what `user` may see as staff."""
    if user.sees_everything:
        return True
    region = user_jurisdiction(user) if user.is_centre_staff else None
    return region is not None and path is not None and path.startswith(region.path)


class WorkerImporter:
    kind: str = "workers"
    title: str = "科技工作者"
    sheet_title: str = "科技工作者"
    object_type: str = "talent_profile"
    columns: tuple[Column, ...] = COLUMNS

    def check(self, rows: Sequence[SheetRow], *, user: User) -> list[RowOutcome]:
        counties = counties_for_import(user=user)
        mobiles = {normalise_mobile(row.get(MOBILE.header)) for row in rows} - {""}
        # Registered numbers are found by their keyed hash: the numbers are sealed.
        accounts = User.objects.for_mobiles(mobiles).values_list(
            "mobile_hash",
            "role",
            "region__path",
            "talent_profile__region__path",
            "talent_profile__id",
        )
        role_of_hash = {mobile_hash: role for mobile_hash, role, *_ in accounts}
        # No oracles (item 7): a number held outside the importer's jurisdiction gets one
        # answer whatever county holds it, and a check goes to the level above.
        outside_by_hash = {
            mobile_hash: profile_id
            for mobile_hash, _, path, profile_path, profile_id in accounts
            if not _in_jurisdiction(user, profile_path or path)
        }
        id_hashes = {
            lookup_hash(n, purpose=ID_NUMBER_PURPOSE)
            for n in (normalise_id_number(row.get(ID_NUMBER.header)) for row in rows)
            if n
        }
        # Registered ID numbers are found by their keyed hash: the numbers are sealed.
        id_rows = list(
            TalentProfile.objects.filter(id_number_hash__in=id_hashes).values_list(
                "id_number_hash", "user__mobile_hash", "pk", "region__path"
            )
        )
        id_owner = {id_hash: mobile for id_hash, mobile, _, _ in id_rows}
        id_outside = {
            id_hash: pk for id_hash, _, pk, path in id_rows if not _in_jurisdiction(user, path)
        }
        elsewhere: set[int] = set()
        seen_mobiles: dict[str, int] = {}
        seen_ids: dict[str, int] = {}
        disciplines = Classification("学科", Discipline.objects.values_list("code", "name"))
        industries = Classification("行业", Industry.objects.values_list("code", "name"))
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
                elif id_hash in id_outside:
                    reader.error(ID_NUMBER.header, REGISTERED_ELSEWHERE)
                    elsewhere.add(id_outside[id_hash])
                elif id_hash in id_owner and id_owner[id_hash] != mobile_lookup(mobile):
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
            discipline_codes, problems = disciplines.resolve(row.get(DISCIPLINES.header))
            for problem in problems:
                reader.error(DISCIPLINES.header, problem)
            industry_codes, problems = industries.resolve(row.get(INDUSTRIES.header))
            for problem in problems:
                reader.error(INDUSTRIES.header, problem)
            modes, problems = service_modes_read(row.get(SERVICE_MODES.header))
            for problem in problems:
                reader.error(SERVICE_MODES.header, problem)
            if mobile_ok:
                if mobile in seen_mobiles:
                    reader.error(MOBILE.header, f"与第{seen_mobiles[mobile]}行重复")
                else:
                    seen_mobiles[mobile] = row.number
                mobile_hash = mobile_lookup(mobile)
                role = role_of_hash.get(mobile_hash)
                if mobile_hash in outside_by_hash:
                    reader.error(MOBILE.header, REGISTERED_ELSEWHERE)
                    if outside_by_hash[mobile_hash] is not None:
                        elsewhere.add(outside_by_hash[mobile_hash])
                    role = None
                elif role is not None and role != Role.WORKER:
                    reader.error(MOBILE.header, "该手机号已被其他类型的账号使用")
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
                    disciplines=tuple(discipline_codes),
                    industries=tuple(industry_codes),
                    service_modes=modes,
                )
            outcomes.append(reader.outcome)
        for profile in TalentProfile.objects.select_related("region").filter(pk__in=elsewhere):
            duplicate_ticket_open(
                profile=profile, reporter=user, source=DuplicateTicket.Source.IMPORT
            )
        return outcomes

    def create(self, record: object, *, actor: User) -> None:
        assert isinstance(record, WorkerRecord)
        user = User(
            username=username_new(),
            display_name=record.display_name,
            role=Role.WORKER,
            region=record.county,
        )
        user.mobile = record.mobile  # sealed, with its lookup hash
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
            service_modes=record.service_modes,
            id_number_sealed=seal(record.id_number, purpose=ID_NUMBER_PURPOSE),
            id_number_hash=lookup_hash(record.id_number, purpose=ID_NUMBER_PURPOSE),
        )
        profile.full_clean(exclude=["user"])
        profile.save()
        profile.disciplines.set(Discipline.objects.filter(code__in=record.disciplines))
        profile.industries.set(Industry.objects.filter(code__in=record.industries))
        index_change_record(kind=EXPERTS, object_ids=[profile.pk])
