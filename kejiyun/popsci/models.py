from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from kejiyun.regions.models import Region


class Topic(models.TextChoices):
    AGRICULTURE = "agriculture", "农业技术"
    DISASTER = "disaster", "防灾减灾"
    FLOOD = "flood", "防汛避险"
    LANDSLIDE = "landslide", "地质灾害"
    EARTHQUAKE = "earthquake", "防震减灾"
    FIRE = "fire", "消防安全"
    HEALTH = "health", "健康生活"
    ECOLOGY = "ecology", "生态环保"
    TECHNOLOGY = "technology", "前沿科技"
    ANTI_FRAUD = "anti_fraud", "反诈防骗"


class Segment(models.TextChoices):
    """Audience segments (受众), also a citizen's occupation group."""

    FARMER = "farmer", "农民"
    STUDENT = "student", "学生"
    LEFT_BEHIND_CHILD = "left_behind_child", "留守儿童"
    ELDERLY = "elderly", "老年人"
    ENTERPRISE_WORKER = "enterprise_worker", "企业职工"
    CADRE = "cadre", "干部"
    OTHER = "other", "其他"


class AgeBand(models.TextChoices):
    UNDER_14 = "under_14", "14岁以下"
    AGE_14_17 = "14_17", "14-17岁"
    AGE_18_35 = "18_35", "18-35岁"
    AGE_36_59 = "36_59", "36-59岁"
    AGE_60_PLUS = "60_plus", "60岁及以上"


class Season(models.TextChoices):
    """Season windows; months are in `SEASON_MONTHS`."""

    SPRING_PLANTING = "spring_planting", "春耕"
    FLOOD_SEASON = "flood_season", "汛期"
    SUMMER_HOLIDAY = "summer_holiday", "暑假"
    AUTUMN_HARVEST = "autumn_harvest", "秋收"
    WINTER = "winter", "冬季"


# Month ranges of each season window in Sichuan (inclusive).
SEASON_MONTHS: dict[str, frozenset[int]] = {
    Season.SPRING_PLANTING: frozenset({3, 4}),
    Season.FLOOD_SEASON: frozenset({6, 7, 8, 9}),
    Season.SUMMER_HOLIDAY: frozenset({7, 8}),
    Season.AUTUMN_HARVEST: frozenset({9, 10}),
    Season.WINTER: frozenset({12, 1, 2}),
}

TOPIC_BITS: dict[str, int] = {value: 1 << i for i, value in enumerate(Topic.values)}


class Article(models.Model):
    """A piece of science content (科普内容): an article, a video or a course.

    It is shown to the public only after a reviewer's science review (科学性审核); every
    publication freezes a `ContentVersion`.
    """

    class Kind(models.TextChoices):
        ARTICLE = "article", "图文"
        VIDEO = "video", "视频"
        COURSE = "course", "课程"

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        IN_REVIEW = "in_review", "待审核"
        RETURNED = "returned", "退回修改"
        PUBLISHED = "published", "已发布"
        ARCHIVED = "archived", "已下架"

    kind = models.CharField("形式", max_length=16, choices=Kind.choices, default=Kind.ARTICLE)
    title = models.CharField("标题", max_length=120)
    summary = models.CharField("摘要", max_length=300, blank=True)
    body = models.TextField("正文")
    topic = models.CharField("主题", max_length=16, choices=Topic.choices, db_index=True)
    segments = models.JSONField("受众", default=list, blank=True, help_text="留空表示所有人")
    seasons = models.JSONField("适用季节", default=list, blank=True, help_text="留空表示全年")
    region = models.ForeignKey(
        Region,
        verbose_name="适用地区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
        help_text="留空表示全省通用",
    )
    video = models.FileField("视频文件", upload_to="popsci/video/", blank=True)
    poster = models.FileField("封面图", upload_to="popsci/poster/", blank=True)
    image = models.FileField("配图", upload_to="popsci/image/", blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="作者",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="authored_articles",
    )
    centre = models.ForeignKey(
        "regions.ServiceCentre",
        verbose_name="发布中心",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核专家",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviewed_articles",
    )
    review_note = models.CharField("审核意见", max_length=500, blank=True)
    version = models.PositiveIntegerField("版本", default=0)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)

    class Meta:
        verbose_name = "科普内容"
        verbose_name_plural = "科普内容"
        ordering = ["-published_at", "-id"]
        # The public list, the home page and every citizen's feed read the newest published
        # content: without it PostgreSQL scans and sorts the whole table (issue 16).
        indexes = [
            models.Index(fields=["status", "-published_at", "-id"], name="article_status_newest")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="article_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def in_season(self, month: int) -> bool:
        """True when the content has no season window or `month` falls in one of them."""
        return not self.seasons or any(month in SEASON_MONTHS.get(s, ()) for s in self.seasons)


class ContentVersion(models.Model):
    """An immutable snapshot of content as it was published."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版本号")
    title = models.CharField("标题", max_length=120)
    body = models.TextField("正文")
    snapshot = models.JSONField("快照", default=dict)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField("发布时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "内容版本"
        verbose_name_plural = "内容版本"
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="content_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"


class ContentEvent(models.Model):
    """One immutable line of a piece of content's history: who moved it from which status to
    which, and why (the review note of a return or an approval)."""

    article = models.ForeignKey(
        Article, verbose_name="科普内容", on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    from_status = models.CharField("原状态", max_length=16, choices=Article.Status.choices)
    to_status = models.CharField("新状态", max_length=16, choices=Article.Status.choices)
    reason = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "内容状态变更"
        verbose_name_plural = "内容状态变更"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status}→{self.to_status}"


class Lesson(models.Model):
    """One lesson of a course, in order."""

    course = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="lessons")
    order = models.PositiveSmallIntegerField("序号")
    title = models.CharField("标题", max_length=120)
    body = models.TextField("内容")

    class Meta:
        verbose_name = "课程章节"
        verbose_name_plural = "课程章节"
        ordering = ["course", "order"]
        constraints = [
            models.UniqueConstraint(fields=["course", "order"], name="lesson_order_unique")
        ]

    def __str__(self) -> str:
        return self.title


class QuizQuestion(models.Model):
    """A short multiple-choice question attached to content."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField("序号", default=1)
    text = models.CharField("题目", max_length=300)
    options = models.JSONField("选项")
    answer = models.PositiveSmallIntegerField("正确选项序号", help_text="从0开始")
    explanation = models.CharField("解析", max_length=300, blank=True)

    class Meta:
        verbose_name = "测验题"
        verbose_name_plural = "测验题"
        ordering = ["article", "order", "id"]

    def __str__(self) -> str:
        return self.text


class CitizenProfile(models.Model):
    """Who a citizen is, for targeting. `region_code` repeats the region's code so that an
    audience count over ten million profiles is one indexed prefix scan."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="citizen_profile",
    )
    region = models.ForeignKey(
        Region, verbose_name="所在地区", on_delete=models.PROTECT, related_name="citizens"
    )
    region_code = models.CharField("区划代码", max_length=12, db_index=True)
    occupation = models.CharField("职业", max_length=24, choices=Segment.choices)
    age_band = models.CharField("年龄段", max_length=12, choices=AgeBand.choices)
    interests = models.JSONField("兴趣", default=list, blank=True)
    interest_bits = models.BigIntegerField("兴趣位", default=0)
    crops = models.CharField("作物或行业", max_length=100, blank=True)
    targeting_consent = models.BooleanField("同意精准推送", default=False)
    consent_version = models.CharField("同意的政策版本", max_length=16, blank=True)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)
    # When the citizen registered (operations count registrations by it). The database
    # default fills rows inserted in bulk by SQL (the audience benchmark).
    created_at = models.DateTimeField(
        "登记时间", default=timezone.now, db_default=Now(), db_index=True
    )

    class Meta:
        verbose_name = "公众档案"
        verbose_name_plural = "公众档案"
        indexes = [
            models.Index(
                fields=["targeting_consent", "occupation", "age_band", "region_code"],
                name="citizen_targeting_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.get_occupation_display()}"


class ConsentRecord(models.Model):
    """Every grant or withdrawal of consent to targeted content, never edited."""

    citizen = models.ForeignKey(
        CitizenProfile, on_delete=models.CASCADE, related_name="consent_records"
    )
    version = models.CharField("政策版本", max_length=16)
    granted = models.BooleanField("同意")
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "精准推送同意记录"
        verbose_name_plural = "精准推送同意记录"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{'同意' if self.granted else '撤回'} {self.version}"


class Campaign(models.Model):
    """A targeted send of one piece of content to an audience through one channel."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SCHEDULED = "scheduled", "已排期"
        SENT = "sent", "已发送"

    title = models.CharField("活动名称", max_length=120)
    article = models.ForeignKey(Article, verbose_name="内容", on_delete=models.PROTECT)
    channel = models.CharField("渠道", max_length=16)
    region = models.ForeignKey(Region, verbose_name="目标地区", on_delete=models.PROTECT)
    segments = models.JSONField("目标人群", default=list, blank=True)
    age_bands = models.JSONField("年龄段", default=list, blank=True)
    interests = models.JSONField("兴趣", default=list, blank=True)
    centre = models.ForeignKey(
        "regions.ServiceCentre", verbose_name="发起中心", on_delete=models.PROTECT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        "状态", max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    scheduled_at = models.DateTimeField("计划发送时间", null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    audience_size = models.PositiveIntegerField("受众人数", default=0)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = "精准推送"
        verbose_name_plural = "精准推送"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """One recipient of one campaign; unique, so sending twice delivers once."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="deliveries")
    citizen = models.ForeignKey(CitizenProfile, on_delete=models.CASCADE, related_name="deliveries")
    created_at = models.DateTimeField("投递时间", default=timezone.now, db_index=True)
    opened_at = models.DateTimeField("打开时间", null=True, blank=True)
    read_to_end_at = models.DateTimeField("读完时间", null=True, blank=True)

    class Meta:
        verbose_name = "投递记录"
        verbose_name_plural = "投递记录"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "citizen"], name="delivery_once")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.citizen_id}"


class ReadEvent(models.Model):
    """A reading session: opened, and (maybe) read to the end. Bot-like reading is
    flagged and left out of outcome figures."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reads"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="reads"
    )
    device = models.CharField("设备标识", max_length=64, blank=True)
    opened_at = models.DateTimeField("打开时间", default=timezone.now, db_index=True)
    finished_at = models.DateTimeField("读完时间", null=True, blank=True)
    flagged = models.BooleanField("疑似刷量", default=False, db_index=True)
    flag_reason = models.CharField("标记原因", max_length=120, blank=True)

    class Meta:
        verbose_name = "阅读记录"
        verbose_name_plural = "阅读记录"
        indexes = [models.Index(fields=["article", "opened_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.article_id}"


class QuizAttempt(models.Model):
    """A citizen's answers to a content's quiz, before or after studying it."""

    class Phase(models.TextChoices):
        BEFORE = "before", "学习前"
        AFTER = "after", "学习后"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="attempts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    phase = models.CharField("阶段", max_length=8, choices=Phase.choices, default=Phase.AFTER)
    answers = models.JSONField("作答")
    correct = models.PositiveSmallIntegerField("答对题数")
    total = models.PositiveSmallIntegerField("题目总数")
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "测验作答"
        verbose_name_plural = "测验作答"
        constraints = [
            models.UniqueConstraint(
                fields=["article", "user", "phase"], name="quiz_attempt_once_per_phase"
            )
        ]

    def __str__(self) -> str:
        return f"{self.correct}/{self.total}"


class Activity(models.Model):
    """A science event at a place and time (e.g. a summer safety class at a 假日学校)."""

    title = models.CharField("活动名称", max_length=120)
    description = models.TextField("活动介绍", blank=True)
    region = models.ForeignKey(Region, verbose_name="地点区划", on_delete=models.PROTECT)
    place = models.CharField("具体地点", max_length=200)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    capacity = models.PositiveIntegerField("名额")
    segments = models.JSONField("面向人群", default=list, blank=True)
    resource = models.CharField(
        "依托资源", max_length=120, blank=True, help_text="如科普共享基地、科技小院"
    )
    centre = models.ForeignKey(
        "regions.ServiceCentre", verbose_name="主办中心", on_delete=models.PROTECT
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = "科普活动"
        verbose_name_plural = "科普活动"
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="activity_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ActivitySignup(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="signups")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activity_signups"
    )
    created_at = models.DateTimeField("报名时间", default=timezone.now)
    checked_in_at = models.DateTimeField("签到时间", null=True, blank=True, db_index=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rating = models.PositiveSmallIntegerField("评分", null=True, blank=True)
    feedback = models.CharField("反馈", max_length=500, blank=True)

    class Meta:
        verbose_name = "活动报名"
        verbose_name_plural = "活动报名"
        constraints = [
            models.UniqueConstraint(fields=["activity", "user"], name="signup_once"),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="signup_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}:{self.user_id}"
