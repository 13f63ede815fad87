"""Pages for preferences, consent and the personal feed (citizens) and for campaigns
(centre staff)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.accounts.models import Role, User
from kejiyun.background.services import run_start
from kejiyun.common.errors import ServiceError
from kejiyun.common.refusals import refusal_text
from kejiyun.pagecache.fragments import fragment
from kejiyun.pagecache.services import POPSCI
from kejiyun.popsci.errors import PopsciError
from kejiyun.popsci.models import AgeBand, CitizenProfile, ConsentRecord, Segment, Topic
from kejiyun.popsci.targeting.forms import AudienceForm, CampaignForm, PreferenceForm
from kejiyun.popsci.targeting.runs import SEND_KIND, send_key
from kejiyun.popsci.targeting.selectors import (
    access_campaign,
    audience_count,
    campaign_regions_for_staff,
    campaign_stats,
    campaigns_for_staff,
    citizen_profile_of,
    citizen_profile_stamp,
    citizen_read_ids,
    consent_is_current,
    current_consent_version,
    feed_for_citizen,
)
from kejiyun.popsci.targeting.services import (
    campaign_create,
    citizen_consent_grant,
    citizen_consent_withdraw,
    citizen_profile_for,
    citizen_profile_update,
)


def read_url(article_id: int) -> str:
    """The reading page, where reading and quiz answers are recorded."""
    return reverse("popsci:content_read", args=[article_id])


# --- Citizens ----------------------------------------------------------------------------


def _own_profile(request: AuthenticatedRequest) -> CitizenProfile:
    user = request.user
    if user.role != Role.CITIZEN:
        raise Http404("页面不存在")
    try:
        return citizen_profile_for(user=user)
    except PopsciError:  # not a citizen with a region: no such page
        raise Http404("页面不存在") from None


@login_required
@require_http_methods(["GET", "POST"])
def my_preferences(request: AuthenticatedRequest) -> HttpResponse:
    """我的科普偏好: where I live, what I do, what interests me; consent is separate."""
    profile = _own_profile(request)
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                citizen_profile_update(
                    profile=profile,
                    actor=request.user,
                    region=data["region"],
                    occupation=data["occupation"],
                    age_band=data["age_band"],
                    interests=data["interests"],
                    crops=data["crops"],
                )
            except ServiceError as error:
                form.add_error(None, refusal_text(error))
            else:
                messages.success(request, "科普偏好已保存。")
                return redirect("popsci:me")
    else:
        form = PreferenceForm(
            initial={
                "region": profile.region_id,
                "occupation": profile.occupation,
                "age_band": profile.age_band,
                "interests": profile.interests,
                "crops": profile.crops,
            }
        )
    records = ConsentRecord.objects.filter(citizen=profile).order_by("-created_at", "-id")[:10]
    return render(
        request,
        "popsci/campaigns/me.html",
        {
            "form": form,
            "profile": profile,
            "consented": consent_is_current(profile),
            "outdated_consent": profile.targeting_consent and not consent_is_current(profile),
            "consent_version": current_consent_version(),
            "records": records,
        },
    )


@login_required
@require_POST
def consent_grant(request: AuthenticatedRequest) -> HttpResponse:
    citizen_consent_grant(profile=_own_profile(request), actor=request.user)
    messages.success(request, "您已同意接收精准科普推送，可随时一键撤回。")
    return redirect("popsci:me")


@login_required
@require_POST
def consent_withdraw(request: AuthenticatedRequest) -> HttpResponse:
    citizen_consent_withdraw(profile=_own_profile(request), actor=request.user)
    messages.success(
        request, "已撤回同意，之后的精准推送将不再发送给您；您仍可浏览本地区科普内容。"
    )
    return redirect("popsci:me")


@login_required
def feed(request: AuthenticatedRequest) -> HttpResponse:
    """我的科普推荐. What the citizen has read is asked on every request; the ranked and
    rendered feed is kept in the page cache for this citizen under it, under everything of
    the profile the ranking reads (`citizen_profile_stamp`, one lookup: the profile itself
    is loaded only to build), the science generation and the day, and lives a minute at
    most (an item's freshness, and content published for a later time, move with the
    clock)."""
    user = request.user
    stamp = citizen_profile_stamp(user)
    if stamp is None:
        return render(request, "popsci/outreach/feed.html", {"body": None})
    read_ids = citizen_read_ids(user_id=user.pk)
    body = fragment(
        "popsci:feed",
        topics=(POPSCI,),
        parts=(
            user.pk,
            stamp,
            current_consent_version(),
            timezone.localdate(),
            sorted(read_ids),
        ),
        build=lambda: _feed_body(user, read_ids),
        seconds=FEED_SECONDS,
    )
    return render(request, "popsci/outreach/feed.html", {"body": body})


# The longest the rendered feed of a citizen is kept.
FEED_SECONDS = 60


def _feed_body(user: User, read_ids: frozenset[int]) -> str:
    profile = citizen_profile_of(user)
    if profile is None:  # removed since the stamp was read
        return ""
    ranked = feed_for_citizen(profile=profile, read_ids=read_ids)
    labels = dict(Topic.choices)
    entries = [
        {"ranked": r, "url": read_url(r.item.id), "topic": labels.get(r.item.topic, "")}
        for r in ranked
    ]
    return render_to_string(
        "popsci/outreach/_feed_body.html", {"profile": profile, "entries": entries}
    )


# --- Staff -------------------------------------------------------------------------------


@staff_required
@require_GET
def campaign_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    page = Paginator(campaigns_for_staff(user=user), 25).get_page(request.GET.get("page"))
    return render(request, "popsci/campaigns/list.html", {"page": page})


@staff_required
@require_http_methods(["GET", "POST"])
def campaign_new(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    regions = campaign_regions_for_staff(user=user)
    if request.method == "POST":
        form = CampaignForm(request.POST, regions=regions)
        if form.is_valid():
            data = form.cleaned_data
            try:
                campaign = campaign_create(
                    actor=user,
                    title=data["title"],
                    article=data["article"],
                    channel=data["channel"],
                    region=data["region"],
                    segments=data["segments"],
                    age_bands=data["age_bands"],
                    interests=data["interests"],
                    scheduled_at=data["scheduled_at"],
                )
            except ServiceError as error:
                form.add_error(None, refusal_text(error))
            else:
                messages.success(request, "推送已创建。")
                return redirect("popsci:campaign_detail", campaign_id=campaign.pk)
    else:
        form = CampaignForm(regions=regions)
    return render(request, "popsci/campaigns/form.html", {"form": form})


@staff_required
@require_GET
def campaign_audience_size(request: AuthenticatedRequest) -> HttpResponse:
    """htmx fragment: how many citizens the criteria reach right now."""
    user = request.user
    form = AudienceForm(request.GET, regions=campaign_regions_for_staff(user=user))
    size: int | None = None
    if form.is_valid() and form.cleaned_data["region"] is not None:
        data = form.cleaned_data
        size = audience_count(
            region=data["region"],
            segments=data["segments"],
            age_bands=data["age_bands"],
            interests=data["interests"],
        )
    return render(request, "popsci/campaigns/_audience_size.html", {"size": size})


@staff_required
@require_GET
def campaign_detail(request: AuthenticatedRequest, campaign_id: int) -> HttpResponse:
    user = request.user
    campaign = access_campaign(user, campaign_id)
    return render(
        request,
        "popsci/campaigns/detail.html",
        {
            "campaign": campaign,
            "stats": campaign_stats(campaign),
            "labels": {
                "segments": [Segment(v).label for v in campaign.segments if v in Segment.values],
                "age_bands": [AgeBand(v).label for v in campaign.age_bands if v in AgeBand.values],
                "interests": [Topic(v).label for v in campaign.interests if v in Topic.values],
            },
        },
    )


@staff_required
@require_POST
def campaign_send_now(request: AuthenticatedRequest, campaign_id: int) -> HttpResponse:
    user = request.user
    campaign = access_campaign(user, campaign_id)
    # The send runs in the background with a progress page; pressing send again while it
    # runs shows the same run.
    run = run_start(
        kind=SEND_KIND,
        owner=user,
        title=_("发送推送：%(title)s") % {"title": campaign.title},
        key=send_key(campaign.pk, user.pk),
        params={"campaign": campaign.pk},
        back_url=reverse("popsci:campaign_detail", kwargs={"campaign_id": campaign.pk}),
        fresh_seconds=0,
    )
    return redirect("background:run", run_id=run.pk)
