"""Builders shared by the content and reading tests."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from kejiyun.accounts.models import Role, User
from kejiyun.popsci.content.services import (
    QuestionInput,
    content_approve,
    content_create,
    content_submit,
    quiz_questions_replace,
)
from kejiyun.popsci.models import Article, CitizenProfile, Topic
from kejiyun.regions.models import Region
from tests.conftest import PASSWORD

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32

QUESTIONS = [
    QuestionInput(
        text="发生山体滑坡时应往哪里跑？", options=("顺着滑坡方向", "向两侧跑"), answer=1
    ),
    QuestionInput(
        text="汛期夜间听到异常声响应当？",
        options=("继续睡觉", "立即撤离", "拍视频", "打电话问邻居"),
        answer=1,
        explanation="先撤离再核实。",
    ),
    QuestionInput(text="山洪来临时能否涉水过河？", options=("能", "不能"), answer=1),
]


def make_reviewer(username: str = "rita") -> User:
    return User.objects.create_user(
        username=username, password=PASSWORD, display_name=username.title(), role=Role.REVIEWER
    )


def make_citizen(username: str, county_code: str = "510104") -> User:
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        display_name=username.title(),
        role=Role.CITIZEN,
        region_id=county_code,
    )
    CitizenProfile.objects.create(
        user=user,
        region_id=county_code,
        region_code=county_code,
        occupation="farmer",
        age_band="36_59",
    )
    return user


def png_upload(name: str = "pic.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def make_draft(author: User, *, title: str = "汛期地质灾害避险指南", **kwargs: object) -> Article:
    fields: dict[str, object] = {
        "kind": Article.Kind.ARTICLE,
        "topic": Topic.LANDSLIDE,
        "body": "遇到山体滑坡，要向两侧跑。",
        "region": Region.objects.get(code="510104"),
    }
    fields.update(kwargs)
    return content_create(actor=author, title=title, **fields)  # type: ignore[arg-type]


def make_published(
    author: User, reviewer: User, *, with_quiz: bool = True, **kw: object
) -> Article:
    article = make_draft(author, **kw)
    if with_quiz:
        quiz_questions_replace(article=article, actor=author, questions=QUESTIONS)
    content_submit(article=article, actor=author)
    content_approve(article=article, actor=reviewer)
    article.refresh_from_db()
    return article
