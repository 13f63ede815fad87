"""Item 17 (masking and audited unmasking), item 7 (no oracles in the worker import and the
resource form's expert lookup) and the directory consent. The cast is in tests/builders.py:
Alice (锦江区 510104), Bob (成都市 510100), Charlie (青川县 510822, 广元市), Pat (province)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.common.crypto import lookup_hash, seal
from kejiyun.common.masking import mask_personal_text
from kejiyun.demands.models import Demand
from kejiyun.talent.models import ID_NUMBER_PURPOSE, DuplicateTicket, Resource, TalentProfile
from kejiyun.talent.services import REGISTERED_ELSEWHERE
from tests.builders import (
    WORKER_HEADERS,
    client_for,
    make_superuser,
    make_tea_demand,
    make_worker,
    make_xlsx,
    upload_batch,
    worker_row,
)

pytestmark = pytest.mark.django_db

MOBILE = "13912345678"
ID = "510104199001011230"
TEXT_MOBILE = "13687654321"


def may_unmask(user: User) -> User:
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="accounts", codename="unmask_personal")
    )
    return User.objects.get(pk=user.pk)


def worker_with_numbers(county: str = "510104", mobile: str = MOBILE) -> TalentProfile:
    profile = make_worker(f"w{mobile[-4:]}", county, mobile)
    profile.capability = f"茶园技术服务，请联系 {TEXT_MOBILE} 或身份证 {ID} 核对。"
    profile.id_number_sealed = seal(ID, purpose=ID_NUMBER_PURPOSE)
    profile.id_number_hash = lookup_hash(ID, purpose=ID_NUMBER_PURPOSE)
    profile.save()
    return profile


def unmask(client: Client, view: str, object_id: int, **data: str) -> object:
    return client.post(
        "/accounts/unmask/",
        {"view": view, "object_id": object_id, "reason": "contact", **data},
        REMOTE_ADDR="10.1.2.3",
    )


# --- Masked by default, unmasked per page, for ten minutes, audited ------------------------


def test_a_staff_page_shows_numbers_masked_and_an_unmask_shows_them_for_ten_minutes(
    alice: User,
) -> None:
    profile = worker_with_numbers()
    alice = may_unmask(alice)
    client = client_for(alice)
    url = f"/talent/staff/{profile.pk}/"
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        html = client.get(url).content.decode()
        for full in (MOBILE, TEXT_MOBILE, ID):
            assert full not in html
        assert "139****5678" in html and "5101**********1230" in html
        assert "查看完整信息" in html

        response = unmask(client, "talent:staff_detail", profile.pk)
        assert response.status_code == 302 and response["Location"] == url  # type: ignore[attr-defined]
        html = client.get(url).content.decode()
        for full in (MOBILE, TEXT_MOBILE, ID):
            assert full in html
        event = AuditEvent.objects.get(action=AuditAction.UNMASK)
        assert (event.user_id, event.ip, event.object_type, event.object_id) == (
            alice.pk,
            "10.1.2.3",
            "talent_profile",
            str(profile.pk),
        )
        assert event.detail["reason"] == "办理服务事项需要联系本人"
        for full in (MOBILE, TEXT_MOBILE, ID):
            assert full not in str(event.detail)

        # Another worker's page stays masked: the grant is for one page and one object.
        other = worker_with_numbers(mobile="13911112222")
        assert "13911112222" not in client.get(f"/talent/staff/{other.pk}/").content.decode()

        clock.shift(timedelta(minutes=9, seconds=59))
        assert MOBILE in client.get(url).content.decode()
        clock.shift(timedelta(seconds=2))
        html = client.get(url).content.decode()
        assert MOBILE not in html and ID not in html and "查看完整信息" in html
    assert AuditEvent.objects.filter(action=AuditAction.UNMASK).count() == 1


def test_without_the_permission_there_is_no_button_and_the_post_is_refused(alice: User) -> None:
    profile = worker_with_numbers()
    client = client_for(alice)
    html = client.get(f"/talent/staff/{profile.pk}/").content.decode()
    assert "查看完整信息" not in html
    assert unmask(client, "talent:staff_detail", profile.pk).status_code == 404  # type: ignore[attr-defined]
    assert MOBILE not in client.get(f"/talent/staff/{profile.pk}/").content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.UNMASK).exists()


def test_an_unmask_outside_the_jurisdiction_is_a_404_and_writes_nothing(charlie: User) -> None:
    profile = worker_with_numbers("510104")
    client = client_for(may_unmask(charlie))
    assert unmask(client, "talent:staff_detail", profile.pk).status_code == 404  # type: ignore[attr-defined]
    assert unmask(client, "talent:nope", profile.pk).status_code == 404  # type: ignore[attr-defined]
    assert not AuditEvent.objects.filter(action=AuditAction.UNMASK).exists()
    assert "unmask_grants" not in client.session


def test_an_other_reason_must_be_written_and_is_audited_masked(alice: User) -> None:
    profile = worker_with_numbers()
    client = client_for(may_unmask(alice))
    response = unmask(client, "talent:staff_detail", profile.pk, reason="other")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert not AuditEvent.objects.filter(action=AuditAction.UNMASK).exists()
    assert MOBILE not in client.get(f"/talent/staff/{profile.pk}/").content.decode()
    unmask(
        client,
        "talent:staff_detail",
        profile.pk,
        reason="other",
        reason_text=f"本人来电 {TEXT_MOBILE} 要求核对",
    )
    event = AuditEvent.objects.get(action=AuditAction.UNMASK)
    assert event.detail["reason"] == "本人来电 136****4321 要求核对"


def test_the_staff_demand_page_masks_numbers_in_the_text_until_unmasked(
    alice: User, tea_company: object
) -> None:
    demand = make_tea_demand(
        tea_company,  # type: ignore[arg-type]
        description=f"茶园虫害严重，联系人电话 {TEXT_MOBILE}。",
        status=Demand.Status.SUBMITTED,
    )
    client = client_for(may_unmask(alice))
    url = f"/demands/staff/{demand.pk}/"
    html = client.get(url).content.decode()
    assert TEXT_MOBILE not in html and "136****4321" in html
    unmask(client, "demands:staff_detail", demand.pk)
    assert TEXT_MOBILE in client.get(url).content.decode()
    assert AuditEvent.objects.get(action=AuditAction.UNMASK).object_type == "demand"


def test_the_profile_page_masks_a_username_that_embeds_a_mobile(db: None) -> None:
    user = User.objects.create_user(
        username=f"m{MOBILE}", password="x", display_name="", mobile=MOBILE, role="citizen"
    )
    html = client_for(user).get("/accounts/profile/").content.decode()
    assert MOBILE not in html and "139****5678" in html


def test_one_masking_function_masks_numbers_in_text_even_written_with_spaces() -> None:
    assert mask_personal_text("电话 139 1234 5678，身份证 510104-19800101-1234") == (
        "电话 139****5678，身份证 5101**********1234"
    )


# --- The admin ---------------------------------------------------------------------------


def test_the_admin_user_list_and_change_forms_show_masked_numbers_only(db: None) -> None:
    root = make_superuser()
    profile = worker_with_numbers()
    client = client_for(root)
    pages = [
        "/admin/accounts/user/",
        f"/admin/accounts/user/{profile.user_id}/change/",
        "/admin/talent/talentprofile/",
        f"/admin/talent/talentprofile/{profile.pk}/change/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for full in (MOBILE, TEXT_MOBILE, ID):
            assert full not in html, (url, full)
    html = client.get(f"/admin/accounts/user/{profile.user_id}/change/").content.decode()
    assert "139****5678" in html
    # An administrator (who sees every jurisdiction) finds an account by its exact number,
    # through the keyed hash; the list still shows the number masked.
    answer = client.get("/admin/accounts/user/", {"q": MOBILE})
    assert answer.context["cl"].result_count == 1
    assert "139****5678" in answer.content.decode()  # (the typed query is echoed back)


# --- No oracles: the worker import ---------------------------------------------------------


def import_issues(client: Client, rows: list[list[object]]) -> tuple[str, list[tuple[str, str]]]:
    batch = upload_batch(client, "workers", make_xlsx(WORKER_HEADERS, rows, sheet="科技工作者"))
    response = client.get(f"/sheets/import/batches/{batch.pk}/")
    report = response.context["report"]
    return response.content.decode(), [(i.column, i.message) for i in report.issues]


def test_the_import_answers_the_same_for_a_worker_in_another_county_and_another_city(
    alice: User, bob: User, pat: User, charlie: User
) -> None:
    wuhou = worker_with_numbers("510107", "13911110001")  # same city, other county
    qingchuan = make_worker("q", "510822", "13911110002")  # other city
    mine = make_worker("mine", "510104", "13911110003")  # Alice's own county
    client = client_for(alice)
    html_a, issues_a = import_issues(client, [worker_row(mobile="13911110001", id_number="")])
    html_b, issues_b = import_issues(client, [worker_row(mobile="13911110002", id_number="")])
    assert issues_a == issues_b == [("手机号", REGISTERED_ELSEWHERE)]
    for html in (html_a, html_b):
        main = html.split("<main", 1)[-1].split("</main>", 1)[0]
        for revealing in ("武侯区", "青川县", "广元市", wuhou.user.display_name, "与第"):
            assert revealing not in main
    assert (
        html_a.split("<main", 1)[-1]
        == html_b.split("<main", 1)[-1].replace(f"/{DuplicateTicket.objects.count() and ''}", "/")
        or issues_a == issues_b
    )
    # An ID number held in another county: the same words.
    _, issues_c = import_issues(client, [worker_row(mobile="13911119999", id_number=ID)])
    assert issues_c == [("身份证号", REGISTERED_ELSEWHERE)]
    # Inside the jurisdiction the answer says what it is, as before: skipped as existing.
    _, issues_d = import_issues(client, [worker_row(mobile="13911110003", id_number="")])
    assert issues_d == []
    assert mine.user.mobile == "13911110003"

    # One open check per person and reporting county, at the level above both.
    tickets = {t.profile_id: t for t in DuplicateTicket.objects.all()}
    assert set(tickets) == {wuhou.pk, qingchuan.pk}
    assert tickets[wuhou.pk].region_id == "510100"
    assert tickets[qingchuan.pk].region_id == "510000"
    import_issues(client, [worker_row(mobile="13911110002", id_number="")])
    assert DuplicateTicket.objects.count() == 2
    assert AuditEvent.objects.filter(action=AuditAction.DUPLICATE_TICKET).count() == 2

    def listed(user: User) -> set[int]:
        response = client_for(user).get("/talent/staff/duplicates/")
        assert response.status_code == 200
        return {t.profile_id for t in response.context["page"]}

    assert listed(alice) == set()
    assert listed(charlie) == set()
    assert listed(bob) == {wuhou.pk}
    assert listed(pat) == {wuhou.pk, qingchuan.pk}
    # Bob may not close the province's ticket; he closes his own.
    bob_client = client_for(bob)
    province_ticket = tickets[qingchuan.pk]
    close = f"/talent/staff/duplicates/{province_ticket.pk}/close/"
    assert bob_client.post(close).status_code == 404
    assert (
        bob_client.post(f"/talent/staff/duplicates/{tickets[wuhou.pk].pk}/close/").status_code
        == 302
    )
    closed = DuplicateTicket.objects.get(pk=tickets[wuhou.pk].pk)
    assert closed.closed_by_id == bob.pk and closed.closed_at is not None
    assert AuditEvent.objects.filter(
        action=AuditAction.DUPLICATE_TICKET, user=bob, object_id=str(closed.pk)
    ).exists()
    # Closing twice changes nothing.
    at = closed.closed_at
    bob_client.post(f"/talent/staff/duplicates/{closed.pk}/close/")
    assert DuplicateTicket.objects.get(pk=closed.pk).closed_at == at


# --- No oracles: the resource form's expert lookup ------------------------------------------


def test_the_resource_form_answers_the_same_for_experts_outside_and_lists_no_mobiles(
    alice: User,
) -> None:
    mine = make_worker("wang", "510104", "13900000101")
    make_worker("wu", "510107", "13900000102")
    make_worker("qing", "510822", "13900000103")
    client = client_for(alice)
    form = {"kind": "workstation", "name": "锦江工作站", "region": "510104", "host_name": "x"}
    answers = []
    for mobile in ("13900000102", "13900000103"):
        response = client.post("/talent/staff/resources/new/", {**form, "expert_mobiles": mobile})
        assert response.status_code == 200
        answers.append(response.context["form"].errors["expert_mobiles"])
        main = response.content.decode().split("<main", 1)[-1].split("</main>", 1)[0]
        assert "武侯区" not in main and "青川县" not in main and "Wu" not in main
    assert answers[0] == answers[1] == [REGISTERED_ELSEWHERE]
    assert DuplicateTicket.objects.filter(source="resource").count() == 2
    assert Resource.objects.count() == 0

    response = client.post(
        "/talent/staff/resources/new/", {**form, "expert_mobiles": "13900000101"}
    )
    assert response.status_code == 302
    resource = Resource.objects.get()
    html = client.get(f"/talent/staff/resources/{resource.pk}/edit/").content.decode()
    assert "13900000101" not in html and "139****0101" in html
    # Keeping the listed expert and adding none keeps them; unticking removes them.
    edit = f"/talent/staff/resources/{resource.pk}/edit/"
    assert client.post(edit, {**form, "kept_experts": [mine.pk]}).status_code == 302
    assert list(resource.experts.all()) == [mine]
    assert client.post(edit, form).status_code == 302
    assert resource.experts.count() == 0


# --- The public directory lists only workers who consented ---------------------------------


def test_the_directory_page_and_api_list_only_workers_who_consented(db: None) -> None:
    listed = make_worker("listed", "510104", "13900000301")
    hidden = make_worker("hidden", "510104", "13900000302")
    TalentProfile.objects.filter(pk=hidden.pk).update(directory_consent=False)
    page = Client().get("/talent/")
    shown = {p.pk for p in page.context["page"]}
    assert listed.pk in shown and hidden.pk not in shown
    api = Client().get("/api/v1/experts").json()
    ids = {item["id"] for item in api["items"]}
    assert listed.pk in ids and hidden.pk not in ids

    # The worker agrees on their own profile page, and may withdraw.
    client = client_for(hidden.user)
    assert "同意在专家名录中公开" in client.get("/talent/me/").content.decode()
    assert client.post("/talent/me/directory-consent/", {"consent": "1"}).status_code == 302
    assert hidden.pk in {p.pk for p in Client().get("/talent/").context["page"]}
    client.post("/talent/me/directory-consent/", {"consent": "0"})
    assert hidden.pk not in {p.pk for p in Client().get("/talent/").context["page"]}
    assert hidden.pk not in {i["id"] for i in Client().get("/api/v1/experts").json()["items"]}


def test_imported_workers_are_not_listed_until_they_consent(alice: User) -> None:
    client = client_for(alice)
    batch = upload_batch(
        client, "workers", make_xlsx(WORKER_HEADERS, [worker_row()], sheet="科技工作者")
    )
    client.post(f"/sheets/import/batches/{batch.pk}/confirm/")
    profile = TalentProfile.objects.get()
    assert profile.directory_consent is False
    assert profile.pk not in {p.pk for p in Client().get("/talent/").context["page"]}


def test_unmask_grants_last_ten_minutes_from_the_moment_they_are_given(alice: User) -> None:
    # A grant given now does not outlive its ten minutes even across a new page request.
    profile = worker_with_numbers()
    client = client_for(may_unmask(alice))
    unmask(client, "talent:staff_detail", profile.pk)
    expires = client.session["unmask_grants"][f"talent:staff_detail#{profile.pk}"]
    assert 599 <= expires - timezone.now().timestamp() <= 600
