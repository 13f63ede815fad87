import pytest

from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.regions.selectors import region_subtree
from kejiyun.regions.services import regions_load, service_centres_ensure

pytestmark = pytest.mark.django_db


def test_sichuan_has_one_province_21_cities_and_183_counties() -> None:
    sichuan = Region.objects.filter(path__startswith="510000/")
    assert sichuan.filter(level="province").count() == 1
    assert sichuan.filter(level="city").count() == 21
    assert sichuan.filter(level="county").count() == 183
    assert sichuan.filter(level="township").count() == 3111


def test_the_whole_country_is_loaded() -> None:
    assert Region.objects.filter(level="province").count() == 31
    assert Region.objects.filter(level="city").count() == 342
    assert Region.objects.filter(level="county").count() == 2975


def test_there_are_205_service_centres_one_per_sichuan_region_down_to_county() -> None:
    assert ServiceCentre.objects.count() == 205
    levels = sorted(ServiceCentre.objects.values_list("region__level", flat=True))
    assert levels.count("province") == 1
    assert levels.count("city") == 21
    assert levels.count("county") == 183


def test_a_second_load_changes_nothing() -> None:
    regions = regions_load()
    centres = service_centres_ensure(province_code="510000")
    assert (regions.created, regions.updated, regions.unchanged) == (0, 0, 6459)
    assert (centres.created, centres.updated, centres.unchanged) == (0, 0, 205)
    assert ServiceCentre.objects.count() == 205


def test_a_changed_region_name_is_restored_by_the_next_load() -> None:
    Region.objects.filter(code="510104").update(name="错误名称")
    result = regions_load()
    assert (result.created, result.updated) == (0, 1)
    assert Region.objects.get(code="510104").name == "锦江区"


def test_counties_sharing_a_name_get_centres_qualified_by_city() -> None:
    names = set(ServiceCentre.objects.filter(region__name="市中区").values_list("name", flat=True))
    assert names == {"乐山市市中区科技服务中心", "内江市市中区科技服务中心"}


def test_prefectures_and_townships_hang_from_the_right_parents() -> None:
    liangshan = Region.objects.get(code="513400")
    assert liangshan.name == "凉山彝族自治州"
    assert liangshan.kind == "自治州"
    assert liangshan.parent_id == "510000"
    township = Region.objects.get(code="510104017")
    assert township.parent_id == "510104"
    assert township.path == "510000/510100/510104/510104017/"


def test_the_subtree_of_a_city_holds_its_counties_and_townships_only() -> None:
    chengdu = Region.objects.get(code="510100")
    codes = set(region_subtree(chengdu).values_list("code", flat=True))
    assert "510104" in codes
    assert "510822" not in codes
    assert all(code.startswith("5101") for code in codes)
    assert chengdu.contains(Region.objects.get(code="510104017"))
    assert not chengdu.contains(Region.objects.get(code="510822"))
