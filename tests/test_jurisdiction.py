"""Staff see only their jurisdiction: county ⊂ city ⊂ province. A refused object is a 404."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kejiyun.accounts.models import Organisation, Role, User
from kejiyun.demands.models import Demand
from kejiyun.regions.models import ServiceCentre
from kejiyun.talent.models import TalentProfile
from tests.builders import client_for, make_demand, make_enterprise, make_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows_in_three_counties() -> dict[str, int]:
    jinjiang = make_enterprise("锦江电子有限公司", "510104", "MA6000001")
    qingchuan = make_enterprise("青川茶业有限公司", "510822", "MA6000002")
    shuangliu = make_enterprise("双流航空材料有限公司", "510116", "MA6000003")
    make_demand(qingchuan, title="茶园病虫害绿色防控")
    w1 = make_worker("w_jinjiang", "510104", "13900000001")
    w2 = make_worker("w_qingchuan", "510822", "13900000002")
    return {
        "org_jinjiang": jinjiang.pk,
        "org_qingchuan": qingchuan.pk,
        "org_shuangliu": shuangliu.pk,
        "worker_jinjiang": w1.pk,
        "worker_qingchuan": w2.pk,
    }


def snapshot() -> tuple[object, ...]:
    return (
        list(Organisation.objects.order_by("pk").values()),
        list(TalentProfile.objects.order_by("pk").values()),
        list(Demand.objects.order_by("pk").values()),
    )


def test_county_staff_get_404_on_another_countys_enterprise_and_nothing_changes(
    alice: User, rows_in_three_counties: dict[str, int]
) -> None:
    before = snapshot()
    client = client_for(alice)
    for method in ("get", "post", "put", "delete"):
        url = f"/accounts/staff/organisations/{rows_in_three_counties['org_qingchuan']}/"
        assert getattr(client, method)(url).status_code in (404, 405)
    assert (
        client.get(
            f"/accounts/staff/organisations/{rows_in_three_counties['org_qingchuan']}/"
        ).status_code
        == 404
    )
    assert snapshot() == before


def test_county_staff_get_404_on_another_countys_sandt_worker(
    alice: User, rows_in_three_counties: dict[str, int]
) -> None:
    client = client_for(alice)
    assert (
        client.get(f"/talent/staff/{rows_in_three_counties['worker_qingchuan']}/").status_code
        == 404
    )
    response = client.get(f"/talent/staff/{rows_in_three_counties['worker_jinjiang']}/")
    assert response.status_code == 200
    assert "139****0001" in response.content.decode()
    assert "13900000001" not in response.content.decode()


def test_county_staff_see_only_their_county_in_lists(
    alice: User, rows_in_three_counties: dict[str, int]
) -> None:
    client = client_for(alice)
    page = client.get("/accounts/staff/organisations/").content.decode()
    assert "锦江电子有限公司" in page
    assert "青川茶业有限公司" not in page
    assert "双流航空材料有限公司" not in page
    workers = client.get("/talent/staff/").content.decode()
    assert "W_Jinjiang" in workers
    assert "W_Qingchuan" not in workers
    demands = client.get("/demands/staff/").content.decode()
    assert "茶园病虫害绿色防控" not in demands
    centres = client.get("/centres/staff/centres/").content.decode()
    assert centres.count("<tr>") == 2  # header row + 锦江区 only


def test_city_staff_see_their_counties_but_not_other_cities(
    bob: User, rows_in_three_counties: dict[str, int]
) -> None:
    client = client_for(bob)
    page = client.get("/accounts/staff/organisations/").content.decode()
    assert "锦江电子有限公司" in page
    assert "双流航空材料有限公司" in page
    assert "青川茶业有限公司" not in page
    assert (
        client.get(
            f"/accounts/staff/organisations/{rows_in_three_counties['org_shuangliu']}/"
        ).status_code
        == 200
    )
    assert (
        client.get(
            f"/accounts/staff/organisations/{rows_in_three_counties['org_qingchuan']}/"
        ).status_code
        == 404
    )
    chengdu_centres = ServiceCentre.objects.filter(
        region__path__startswith="510000/510100/"
    ).count()
    assert chengdu_centres == 21
    centres = client.get("/centres/staff/centres/").content.decode()
    assert centres.count("<tr>") == 1 + chengdu_centres


def test_province_staff_see_every_county(pat: User, rows_in_three_counties: dict[str, int]) -> None:
    client = client_for(pat)
    page = client.get("/accounts/staff/organisations/").content.decode()
    for name in ("锦江电子有限公司", "青川茶业有限公司", "双流航空材料有限公司"):
        assert name in page
    demands = client.get("/demands/staff/").content.decode()
    assert "茶园病虫害绿色防控" in demands


def test_staff_dashboard_counts_only_the_jurisdiction(
    alice: User, charlie: User, rows_in_three_counties: dict[str, int]
) -> None:
    alice_page = client_for(alice).get("/dashboard/").content.decode()
    assert (
        'data-count="enterprises"><a href="/accounts/staff/organisations/?kind=enterprise">1<'
        in alice_page
    )
    charlie_page = client_for(charlie).get("/dashboard/").content.decode()
    assert 'data-count="demands"><a href="/demands/staff/">1<' in charlie_page


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/staff/organisations/",
        "/talent/staff/",
        "/demands/staff/",
        "/centres/staff/centres/",
    ],
)
def test_people_who_are_not_staff_cannot_open_staff_pages(
    url: str, rows_in_three_counties: dict[str, int]
) -> None:
    worker = User.objects.get(username="w_jinjiang")
    assert client_for(worker).get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")


def test_an_administrator_sees_everything(rows_in_three_counties: dict[str, int]) -> None:
    admin = User.objects.create_user(
        username="root", password="x", display_name="管理员", role=Role.ADMIN
    )
    page = client_for(admin).get("/accounts/staff/organisations/").content.decode()
    assert "青川茶业有限公司" in page
    assert "锦江电子有限公司" in page


def test_staff_list_pages_use_a_fixed_number_of_queries(pat: User) -> None:
    urls = ("/accounts/staff/organisations/", "/talent/staff/", "/demands/staff/")
    client = client_for(pat)
    client.get("/")  # the session's first request stamps it; later ones read it only

    def counts() -> list[int]:
        out = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            out.append(len(ctx.captured_queries))
        return out

    make_enterprise("企业甲", "510104", "MA8000001")
    make_worker("w_a", "510822", "13700009001")
    few = counts()
    for i in range(30):
        make_enterprise(f"企业{i}", "510104", f"MA7{i:06d}")
        make_worker(f"w{i}", "510822", f"1370000{i:04d}")
    many = counts()
    assert few == many == [4, 4, 3]
