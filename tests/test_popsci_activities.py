"""Activities: staff create them in their jurisdiction, citizens sign up within capacity,
staff check people in, participants give feedback."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.popsci.models import Activity, ActivitySignup
from kejiyun.popsci.outreach.services import (
    activity_check_in,
    activity_create,
    activity_feedback,
    activity_signup,
    activity_signup_cancel,
    signup_code,
)
from kejiyun.regions.models import Region
from tests.builders import client_for, make_citizen

pytestmark = pytest.mark.django_db


def create(user: User, region_code: str = "510104", capacity: int = 2, **kw: object) -> Activity:
    starts = timezone.now() + timedelta(days=3)
    values: dict[str, object] = {
        "title": "暑期防溺水安全课",
        "region": Region.objects.get(code=region_code),
        "place": "假日学校",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "capacity": capacity,
        "segments": ["left_behind_child"],
        "resource": "科普共享基地",
    }
    values.update(kw)
    return activity_create(actor=user, **values)  # type: ignore[arg-type]


def snapshot() -> tuple[object, ...]:
    return (
        list(Activity.objects.order_by("pk").values()),
        list(ActivitySignup.objects.order_by("pk").values()),
    )


def test_staff_create_an_activity_in_their_jurisdiction_for_their_centre(alice: User) -> None:
    activity = create(alice, region_code="510104")
    assert activity.centre_id == alice.centre_id
    assert (activity.capacity, activity.segments, activity.resource) == (
        2,
        ["left_behind_child"],
        "科普共享基地",
    )


def test_staff_cannot_create_an_activity_outside_their_jurisdiction(alice: User) -> None:
    with pytest.raises(PermissionDenied):
        create(alice, region_code="510822")
    assert Activity.objects.count() == 0


def test_the_create_page_refuses_a_region_outside_the_jurisdiction_and_saves_nothing(
    alice: User,
) -> None:
    start = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    end = (timezone.localtime() + timedelta(days=3, hours=2)).strftime("%Y-%m-%dT%H:%M")
    form = {
        "title": "田间课堂",
        "place": "村委会",
        "starts_at": start,
        "ends_at": end,
        "capacity": "30",
        "segments": ["farmer"],
    }
    client = client_for(alice)
    response = client.post("/popsci/activities/new/", {**form, "region": "510822"})
    assert response.status_code == 200
    assert Activity.objects.count() == 0
    response = client.post("/popsci/activities/new/", {**form, "region": "510104"})
    activity = Activity.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/popsci/activities/{activity.pk}/check-in/"
    assert (activity.region_id, activity.capacity, activity.segments) == ("510104", 30, ["farmer"])


def test_citizens_cannot_open_the_staff_pages() -> None:
    citizen = make_citizen("dave", "510104")
    client = client_for(citizen)
    assert client.get("/popsci/activities/new/").status_code == 404
    assert client.get("/popsci/activities/staff/").status_code == 404


def test_capacity_is_enforced_with_a_clear_message(alice: User) -> None:
    activity = create(alice, capacity=2)
    a, b, c = (make_citizen(n, "510104") for n in ("ann", "ben", "cai"))
    activity_signup(activity=activity, actor=a)
    activity_signup(activity=activity, actor=b)
    with pytest.raises(ValidationError, match="名额已满"):
        activity_signup(activity=activity, actor=c)
    assert ActivitySignup.objects.filter(activity=activity).count() == 2

    client = client_for(c)
    response = client.post(f"/popsci/activities/{activity.pk}/signup/", follow=True)
    assert "名额已满" in response.content.decode()
    assert ActivitySignup.objects.filter(activity=activity).count() == 2


def test_signing_up_twice_is_refused(alice: User) -> None:
    activity = create(alice, capacity=5)
    ann = make_citizen("ann", "510104")
    activity_signup(activity=activity, actor=ann)
    with pytest.raises(ValidationError, match="已报名"):
        activity_signup(activity=activity, actor=ann)
    assert ActivitySignup.objects.filter(activity=activity).count() == 1


def test_a_cancelled_place_can_be_taken_by_someone_else(alice: User) -> None:
    activity = create(alice, capacity=1)
    ann, ben = make_citizen("ann", "510104"), make_citizen("ben", "510104")
    client_for(ann).post(f"/popsci/activities/{activity.pk}/signup/")
    assert ActivitySignup.objects.get(activity=activity).user == ann
    client_for(ann).post(f"/popsci/activities/{activity.pk}/cancel/")
    assert not ActivitySignup.objects.filter(activity=activity).exists()
    activity_signup(activity=activity, actor=ben)
    assert activity_signup_cancel(activity=activity, actor=ann) is False


def test_citizens_see_upcoming_activities_of_their_own_area_only(
    alice: User, charlie: User
) -> None:
    here = create(alice, region_code="510104", title="锦江区科普讲座")
    create(charlie, region_code="510822", title="青川县田间课堂")
    township = Region.objects.filter(parent_id="510104", level="township").first()
    assert township is not None
    dave = make_citizen("dave", township.code)
    html = client_for(dave).get("/popsci/activities/").content.decode()
    assert "锦江区科普讲座" in html
    assert "青川县田间课堂" not in html
    other = Activity.objects.get(title="青川县田间课堂")
    before = snapshot()
    assert client_for(dave).get(f"/popsci/activities/{other.pk}/").status_code == 404
    assert client_for(dave).post(f"/popsci/activities/{other.pk}/signup/").status_code == 404
    assert snapshot() == before
    assert client_for(dave).get(f"/popsci/activities/{here.pk}/").status_code == 200


def test_staff_check_in_by_list_and_by_code(alice: User, bob: User) -> None:
    activity = create(alice, capacity=5)
    ann, ben = make_citizen("ann", "510104"), make_citizen("ben", "510104")
    s_ann = activity_signup(activity=activity, actor=ann)
    s_ben = activity_signup(activity=activity, actor=ben)

    # The citizen sees their code on the activity page.
    code = signup_code(s_ben)
    assert len(code) == 6
    assert code in client_for(ben).get(f"/popsci/activities/{activity.pk}/").content.decode()

    client = client_for(alice)
    response = client.post(f"/popsci/activities/{activity.pk}/check-in/", {"signup": s_ann.pk})
    assert response.status_code == 302
    s_ann.refresh_from_db()
    assert s_ann.checked_in_at is not None
    assert s_ann.checked_in_by == alice

    # Bob at the city centre may check people in for a county activity too.
    client_for(bob).post(f"/popsci/activities/{activity.pk}/check-in/", {"code": code.lower()})
    s_ben.refresh_from_db()
    assert s_ben.checked_in_by == bob

    with pytest.raises(ValidationError, match="已签到"):
        activity_check_in(activity=activity, actor=alice, signup_id=s_ann.pk)
    with pytest.raises(ValidationError, match="签到码不正确"):
        activity_check_in(activity=activity, actor=alice, code="ZZZZZZ")


def test_check_in_is_for_staff_of_the_jurisdiction_only(alice: User, charlie: User) -> None:
    activity = create(alice, capacity=5)
    ann = make_citizen("ann", "510104")
    signup = activity_signup(activity=activity, actor=ann)
    before = snapshot()
    url = f"/popsci/activities/{activity.pk}/check-in/"
    assert client_for(charlie).get(url).status_code == 404
    assert client_for(charlie).post(url, {"signup": signup.pk}).status_code == 404
    assert client_for(ann).post(url, {"signup": signup.pk}).status_code == 404
    assert Client().post(url, {"signup": signup.pk}).status_code == 302  # to the login page
    with pytest.raises(PermissionDenied):
        activity_check_in(activity=activity, actor=charlie, signup_id=signup.pk)
    assert snapshot() == before


def test_feedback_after_the_activity_from_participants(alice: User) -> None:
    activity = create(alice, capacity=5)
    ann, ben = make_citizen("ann", "510104"), make_citizen("ben", "510104")
    activity_signup(activity=activity, actor=ann)
    with pytest.raises(ValidationError, match="活动结束后"):
        activity_feedback(activity=activity, actor=ann, rating=5)
    later = activity.ends_at + timedelta(minutes=1)
    with pytest.raises(ValidationError, match="1到5"):
        activity_feedback(activity=activity, actor=ann, rating=6, now=later)
    with pytest.raises(ValidationError, match="报名参加"):
        activity_feedback(activity=activity, actor=ben, rating=4, now=later)
    signup = activity_feedback(activity=activity, actor=ann, rating=4, comment="很实用", now=later)
    assert (signup.rating, signup.feedback) == (4, "很实用")


def test_sign_up_closes_when_the_activity_starts(alice: User) -> None:
    activity = create(alice, capacity=5)
    ann = make_citizen("ann", "510104")
    with pytest.raises(ValidationError, match="报名已截止"):
        activity_signup(activity=activity, actor=ann, now=activity.starts_at)
    assert not ActivitySignup.objects.exists()
