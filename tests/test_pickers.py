"""Pickers people can use (issue 10 item 9): the region picker and its endpoints, the
discipline and industry trees and theirs, multi-choices as checkboxes, radios as radios, and
wide tables that scroll inside their own box."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.conf import settings
from django.test import Client

from kejiyun.accounts.forms import county_field
from kejiyun.cases.dockings.forms import DockingReplyForm
from kejiyun.common.forms import BootstrapFormMixin
from kejiyun.popsci.content.forms import ContentForm
from kejiyun.popsci.targeting.forms import PreferenceForm
from kejiyun.regions.models import Region
from kejiyun.talent.forms import ProfileForm
from kejiyun.talent.selectors import regions_servable
from kejiyun.talent.widgets import ClassificationField
from tests.builders import client_for, make_worker

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "kejiyun" / "templates"


def _options(html: str, select_id: str) -> list[str]:
    select = re.search(rf'<select[^>]*id="{select_id}".*?</select>', html, re.S)
    assert select is not None, f"no select #{select_id}"
    return re.findall(r'<option value="([^"]*)"', select.group(0))


# --- The region picker: widget --------------------------------------------------------------


class _CountyForm(BootstrapFormMixin, forms.Form):
    region = county_field()


def test_a_region_field_renders_the_picker_with_a_county_select_and_posts_the_id() -> None:
    html = str(_CountyForm())
    assert "data-region-picker" in html
    assert 'data-root="510000"' in html
    assert 'data-levels="county"' in html
    options = _options(html, "id_region")
    # The fallback select: the 183 counties of Sichuan (and the empty choice), nothing else.
    assert (
        len(options)
        == 1 + Region.objects.filter(path__startswith="510000/", level="county").count()
    )
    assert "510116" in options and "510185" in options
    assert '<optgroup label="成都市">' in html

    form = _CountyForm({"region": "510116"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["region"].name == "双流区"


def test_a_region_outside_the_field_is_refused_in_chinese() -> None:
    form = _CountyForm({"region": "510100"})  # 成都市 is a city, not a county
    assert not form.is_valid()
    assert form.errors["region"] == ["所选区县不存在，请重新选择。"]


def test_the_registration_page_offers_the_picker_and_no_thousand_option_select(
    client: Client,
) -> None:
    html = client.get("/accounts/register/worker/").content.decode()
    assert "data-region-picker" in html
    assert len(_options(html, "id_region")) < 200
    assert "js/pickers.js" in html


def test_the_citizen_region_select_no_longer_lists_every_township() -> None:
    """The preference form accepts a county or a township (3,294 regions); the page lists
    the counties and the chosen township only, and the cascade reaches the rest."""
    form = PreferenceForm(initial={"region": "510116001"})
    html = str(form["region"])
    options = _options(html, "id_region")
    assert len(options) < 200
    assert "510116001" in options  # the chosen township stays chosen
    assert 'data-levels="county,township"' in html
    valid = PreferenceForm(
        {"region": "510116001", "occupation": "farmer", "age_band": "36_59", "crops": ""}
    )
    assert valid.is_valid(), valid.errors
    assert valid.cleaned_data["region"].code == "510116001"


def test_a_county_staff_content_form_cascades_from_their_own_county(alice: Any) -> None:
    html = str(ContentForm(user=alice)["region"])
    assert 'data-root="510104"' in html
    assert 'data-levels="county,township"' in html


# --- The region endpoints ---------------------------------------------------------------------


def test_the_children_endpoint_returns_the_counties_of_chengdu(client: Client) -> None:
    response = client.get("/regions/children/510100/")
    assert response.status_code == 200
    assert "public" in response["Cache-Control"]
    data = response.json()
    names = [item["name"] for item in data["items"]]
    assert len(names) == Region.objects.filter(parent_id="510100").count() == 20
    assert "双流区" in names and "简阳市" in names and "锦江区" in names
    assert {item["level"] for item in data["items"]} == {"county"}
    assert all(item["leaf"] is False for item in data["items"])  # every county has townships


def test_the_children_endpoint_starts_at_the_provinces_and_404s_on_nonsense(
    client: Client,
) -> None:
    roots = client.get("/regions/children/").json()["items"]
    assert {"code": "510000", "name": "四川省", "level": "province", "leaf": False} in roots
    assert client.get("/regions/children/999999/").status_code == 404


def test_the_search_endpoint_finds_shuangliu_and_jianyang_by_chinese_name(
    client: Client,
) -> None:
    found = client.get(
        "/regions/search/", {"q": "双流", "within": "510000", "levels": "county"}
    ).json()["items"]
    assert found[0]["name"] == "双流区"
    assert found[0]["label"] == "成都市 · 双流区"
    assert found[0]["path"] == ["510000", "510100", "510116"]
    assert all(item["level"] == "county" for item in found)

    jianyang = client.get("/regions/search/", {"q": "简阳", "within": "510000"}).json()["items"]
    assert jianyang[0]["code"] == "510185"


def test_region_search_stays_inside_the_subtree_and_answers_nothing_for_blank(
    client: Client,
) -> None:
    found = client.get("/regions/search/", {"q": "双流", "within": "510104"}).json()["items"]
    assert found == []
    assert client.get("/regions/search/", {"q": "  "}).json()["items"] == []


# --- Discipline and industry trees -----------------------------------------------------------


def test_discipline_search_finds_a_discipline_by_its_chinese_name(client: Client) -> None:
    items = client.get("/talent/classifications/discipline/search/", {"q": "果树"}).json()["items"]
    assert items[0]["code"] == "C1501"
    assert items[0]["name"] == "果树学"
    assert items[0]["path"] == "园艺学与植物营养学"


def test_industry_search_and_children_walk_the_gbt4754_tree_by_name(client: Client) -> None:
    items = client.get("/talent/classifications/industry/search/", {"q": "白酒"}).json()["items"]
    assert [(i["code"], i["name"]) for i in items] == [("1512", "白酒制造")]
    assert items[0]["path"] == "制造业 › 酒、饮料和精制茶制造业 › 酒的制造"
    assert items[0]["leaf"] is True
    tops = client.get("/talent/classifications/industry/children/").json()["items"]
    assert len(tops) == 20 and tops[0]["name"] == "农、林、牧、渔业"
    below = client.get("/talent/classifications/industry/children/", {"parent": "15"}).json()
    assert [i["name"] for i in below["items"]] == ["酒的制造", "饮料制造", "精制茶加工"]
    assert client.get("/talent/classifications/nonsense/search/", {"q": "a"}).status_code == 404


def test_the_profile_form_renders_trees_with_the_chosen_nodes_by_name_and_no_code_box() -> None:
    profile = make_worker("wang", "510104", "13900000101")
    profile.disciplines.add("C1501")
    form = ProfileForm(
        initial=ProfileForm.initial_for(profile),
        regions=regions_servable(province_code="510000"),
    )
    html = form.as_p()
    assert 'data-class-tree data-name="disciplines"' in html
    chosen = re.search(r'<input type="checkbox"[^>]*name="disciplines"[^>]*>', html)
    assert (
        chosen is not None and 'value="C1501"' in chosen.group(0) and "checked" in chosen.group(0)
    )
    assert "果树学" in html
    assert "学科代码" not in html and "C1502、F0201" not in html
    # Several regions served: checkboxes (and the chips the script builds), no Ctrl-click list.
    assert "<select" not in str(form["regions_served"])
    assert 'type="checkbox" class="form-check-input" name="regions_served"' in str(
        form["regions_served"]
    )


def test_a_worker_saves_disciplines_industries_and_regions_posted_as_one_value_each() -> None:
    profile = make_worker("wang", "510104", "13900000101")
    response = client_for(profile.user).post(
        "/talent/me/",
        {
            "version": profile.version,
            "employer": "四川农业大学",
            "title": "研究员",
            "fields_text": "果树",
            "keywords": "猕猴桃",
            "capability": "猕猴桃溃疡病防控",
            "disciplines": ["C1501", "C2006"],
            "industries": ["0151"],
            "service_modes": ["1", "4"],
            "regions_served": ["510116", "510100"],
            "capacity": 3,
        },
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert sorted(profile.disciplines.values_list("code", flat=True)) == ["C1501", "C2006"]
    assert list(profile.industries.values_list("code", flat=True)) == ["0151"]
    assert sorted(profile.regions_served.values_list("code", flat=True)) == ["510100", "510116"]
    assert profile.service_mode_labels == ["咨询", "联合研发"]


def test_a_single_classification_field_renders_a_radio_for_the_chosen_node() -> None:
    class _Form(BootstrapFormMixin, forms.Form):
        industry = ClassificationField("industry", multiple=False, label="所属行业")

    html = str(_Form(initial={"industry": "1512"}))
    radio = re.search(r'<input type="radio"[^>]*>', html)
    assert radio is not None
    assert 'name="industry"' in radio.group(0) and 'value="1512"' in radio.group(0)
    assert "白酒制造" in html
    form = _Form({"industry": "1512"})
    assert form.is_valid() and form.cleaned_data["industry"] == ["1512"]


def test_the_tree_widget_serves_a_model_choice_field_of_industries_too() -> None:
    """How a single industry field (the demand form's) takes the tree: it posts one code."""
    from kejiyun.talent.models import Industry
    from kejiyun.talent.widgets import ClassificationTree

    class _Form(BootstrapFormMixin, forms.Form):
        industry = forms.ModelChoiceField(
            queryset=Industry.objects.all(),
            required=False,
            widget=ClassificationTree("industry", multiple=False),
        )

    html = str(_Form(initial={"industry": Industry.objects.get(code="1512")}))
    assert re.search(r'<input type="radio"[^>]*name="industry" value="1512"[^>]*checked', html)
    form = _Form({"industry": "1512"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["industry"].name == "白酒制造"
    empty = _Form({})
    assert empty.is_valid() and empty.cleaned_data["industry"] is None


# --- Radios and checkboxes ----------------------------------------------------------------------


def test_a_radio_field_renders_type_radio_without_form_control() -> None:
    from django.template.loader import render_to_string

    html = render_to_string("_form.html", {"form": DockingReplyForm()})
    radios = re.findall(r'<input type="radio"[^>]*>', html)
    assert len(radios) == 2
    for radio in radios:
        assert "form-control" not in radio
        assert 'class="form-check-input"' in radio
    assert '<div class="form-check form-check-inline">' in html
    assert "<legend" in html and "答复" in html


def test_multi_choices_render_as_checkboxes_never_a_ctrl_click_list(alice: Any) -> None:
    from django.template.loader import render_to_string

    for form in (
        ContentForm(user=alice),
        ProfileForm(regions=regions_servable(province_code="510000")),
    ):
        html = render_to_string("_form.html", {"form": form})
        assert "multiple" not in re.sub(r"data-multiple", "", html), type(form).__name__
        assert "Ctrl" not in html
    html = render_to_string("_form.html", {"form": ContentForm(user=alice)})
    assert re.search(r'<input type="checkbox" name="segments" value="farmer"', html)


def test_the_mixin_turns_a_plain_multiple_select_into_checkboxes() -> None:
    class _Form(BootstrapFormMixin, forms.Form):
        colours = forms.MultipleChoiceField(choices=[("r", "红"), ("g", "绿")])

    form = _Form()
    assert isinstance(form.fields["colours"].widget, forms.CheckboxSelectMultiple)
    assert _Form({"colours": ["r", "g"]}).is_valid()


# --- Tables scroll in their own box ------------------------------------------------------------


def test_every_table_in_the_templates_sits_in_a_table_responsive_box() -> None:
    bare = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for match in re.finditer(r"<table\b", text):
            before = text[: match.start()]
            opened = before.rfind("table-responsive")
            closed_after = before.rfind("</table>")
            if opened == -1 or opened < closed_after:
                bare.append(str(path.relative_to(TEMPLATES)))
    assert bare == []


def test_the_worker_profile_page_has_the_pickers() -> None:
    profile = make_worker("wang", "510104", "13900000101")
    html = client_for(profile.user).get("/talent/me/").content.decode()
    assert "data-class-tree" in html and "data-region-picker" in html
    assert 'type="checkbox" name="service_modes"' in html
