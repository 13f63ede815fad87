"""Views for outcomes and activities. Thin: selectors read, services
write, every staff object comes from a jurisdiction-scoped `access_*` helper."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.common.errors import ServiceError
from kejiyun.common.refusals import refusal_text, run_service
from kejiyun.popsci.models import Activity, Campaign
from kejiyun.popsci.outreach.forms import ActivityForm, CheckInCodeForm, FeedbackForm
from kejiyun.popsci.outreach.selectors import (
    access_activity_for_citizen,
    access_activity_for_staff,
    activities_for_staff,
    activities_upcoming_for_citizen,
    activity_signups,
    articles_for_staff_outcomes,
    flagged_reads_for_staff,
    outcomes_by_article,
    outcomes_by_campaign,
    outcomes_for,
    regions_for_staff_activities,
)
from kejiyun.popsci.outreach.services import (
    activity_check_in,
    activity_create,
    activity_feedback,
    activity_signup,
    activity_signup_cancel,
    signup_code,
)
from kejiyun.popsci.targeting.selectors import citizen_profile_of
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import jurisdiction_filter, user_jurisdiction

# --- Outcomes ----------------------------------------------------------------------------


@staff_required
def outcomes(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    articles = articles_for_staff_outcomes(user=user)
    article_list = list(articles[:100])
    campaigns = list(
        jurisdiction_filter(
            Campaign.objects.select_related("article", "region"),
            user=user,
            region_field="region",
        ).order_by("-created_at", "-id")[:100]
    )
    region = user_jurisdiction(user) if user.is_centre_staff else None
    if region is None:
        region = Region.objects.filter(level=Region.Level.PROVINCE).order_by("code").first()
    by_article = outcomes_by_article(article_list)
    by_campaign = outcomes_by_campaign(campaigns)
    flagged = flagged_reads_for_staff(user=user, articles=articles)
    return render(
        request,
        "popsci/outreach/outcomes.html",
        {
            "region": region,
            "summary": outcomes_for(region=region) if region is not None else None,
            "article_rows": [(a, by_article[a.pk]) for a in article_list],
            "campaign_rows": [(c, by_campaign[c.pk]) for c in campaigns],
            "flagged_count": flagged.count(),
            "flagged": flagged[:50],
        },
    )


# --- Activities: citizens ----------------------------------------------------------------


def _detail_url(activity: Activity) -> str:
    return reverse("popsci:activity_detail", kwargs={"activity_id": activity.pk})


@login_required
def activities(request: AuthenticatedRequest) -> HttpResponse:
    profile = citizen_profile_of(request.user)
    region = profile.region if profile is not None else request.user.region
    items = list(activities_upcoming_for_citizen(region=region)) if region is not None else []
    mine = set(
        request.user.activity_signups.filter(activity__in=[a.pk for a in items]).values_list(
            "activity_id", flat=True
        )
    )
    return render(
        request,
        "popsci/outreach/activities.html",
        {"region": region, "items": items, "mine": mine},
    )


@login_required
def activity_detail(request: AuthenticatedRequest, activity_id: int) -> HttpResponse:
    activity = access_activity_for_citizen(user=request.user, activity_id=activity_id)
    signup = activity.signups.filter(user=request.user).first()
    now = timezone.now()
    return render(
        request,
        "popsci/outreach/activity_detail.html",
        {
            "activity": activity,
            "signup": signup,
            "code": signup_code(signup) if signup else "",
            "taken": activity.signups.count(),
            "open": activity.starts_at > now,
            "ended": activity.ends_at <= now,
            "feedback_form": FeedbackForm(),
        },
    )


@login_required
@require_POST
def activity_signup_view(request: AuthenticatedRequest, activity_id: int) -> HttpResponse:
    activity = access_activity_for_citizen(user=request.user, activity_id=activity_id)
    return run_service(
        request,
        lambda: activity_signup(activity=activity, actor=request.user),
        success="报名成功，请按时参加。",
        done_url=_detail_url(activity),
    )


@login_required
@require_POST
def activity_cancel_view(request: AuthenticatedRequest, activity_id: int) -> HttpResponse:
    activity = access_activity_for_citizen(user=request.user, activity_id=activity_id)
    try:
        removed = activity_signup_cancel(activity=activity, actor=request.user)
    except ServiceError as error:
        messages.error(request, refusal_text(error))
    else:
        messages.info(request, "已取消报名。" if removed else "您没有可取消的报名。")
    return redirect("popsci:activity_detail", activity_id=activity.pk)


@login_required
@require_POST
def activity_feedback_view(request: AuthenticatedRequest, activity_id: int) -> HttpResponse:
    activity = access_activity_for_citizen(user=request.user, activity_id=activity_id)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请选择1到5分的评分。")
        return redirect("popsci:activity_detail", activity_id=activity.pk)
    return run_service(
        request,
        lambda: activity_feedback(
            activity=activity,
            actor=request.user,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data["comment"],
        ),
        success="感谢您的评价。",
        done_url=_detail_url(activity),
    )


# --- Activities: staff -------------------------------------------------------------------


@staff_required
def staff_activities(request: AuthenticatedRequest) -> HttpResponse:
    items = activities_for_staff(user=request.user)[:200]
    return render(request, "popsci/outreach/staff_activities.html", {"items": items})


@staff_required
def activity_create_view(request: AuthenticatedRequest) -> HttpResponse:
    regions = regions_for_staff_activities(user=request.user)
    form = ActivityForm(request.POST or None, regions=regions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            activity = activity_create(actor=request.user, **data)
        except (ServiceError, PermissionDenied) as error:
            form.add_error(None, refusal_text(error))
        else:
            messages.success(request, f"活动“{activity.title}”已创建。")
            return redirect("popsci:activity_checkin", activity_id=activity.pk)
    return render(request, "popsci/outreach/activity_form.html", {"form": form})


@staff_required
def activity_checkin(request: AuthenticatedRequest, activity_id: int) -> HttpResponse:
    activity = access_activity_for_staff(user=request.user, activity_id=activity_id)
    code_form = CheckInCodeForm()
    if request.method == "POST":
        signup_id: int | None = None
        code = ""
        if "signup" in request.POST:
            try:
                signup_id = int(request.POST["signup"])
            except ValueError:
                raise Http404("报名不存在") from None
        else:
            code_form = CheckInCodeForm(request.POST)
            if code_form.is_valid():
                code = code_form.cleaned_data["code"]
        if signup_id is not None or code:
            try:
                signup = activity_check_in(
                    activity=activity,
                    actor=request.user,
                    signup_id=signup_id,
                    code=code,
                )
            except (ServiceError, PermissionDenied) as error:
                messages.error(request, refusal_text(error))
            else:
                messages.success(request, f"{signup.user} 签到成功。")
                return redirect("popsci:activity_checkin", activity_id=activity.pk)
    signups = list(activity_signups(activity=activity))
    return render(
        request,
        "popsci/outreach/activity_checkin.html",
        {
            "activity": activity,
            "rows": [(s, signup_code(s)) for s in signups],
            "checked_in": sum(1 for s in signups if s.checked_in_at),
            "code_form": code_form,
        },
    )
