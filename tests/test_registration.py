import re

import pytest
import time_machine
from django.test import Client

from kejiyun.accounts.models import Footprint, Organisation, Role, SmsCode, User
from kejiyun.common.crypto import mobile_lookup
from kejiyun.notifications.models import SmsMessage
from kejiyun.talent.models import TalentProfile
from tests.builders import PASSWORD, make_uscc

pytestmark = pytest.mark.django_db

MOBILE = "13981234567"


def send_code(client: Client, mobile: str = MOBILE, purpose: str = "register") -> str:
    response = client.post("/accounts/sms-code/", {"mobile": mobile, "purpose": purpose})
    assert response.status_code == 200
    message = SmsMessage.objects.for_mobile(mobile).order_by("-id").first()
    assert message is not None
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match is not None
    return match.group(1)


def enterprise_form(code: str, **overrides: str) -> dict[str, str]:
    data = {
        "display_name": "王小明",
        "mobile": MOBILE,
        "sms_code": code,
        "region": "510104",
        "organisation_name": "锦江茶业科技有限公司",
        "uscc": make_uscc("510104", "MA6ABC123"),
        "industry": "茶叶",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "agree": "on",
    }
    data.update(overrides)
    return data


def nothing_was_created() -> bool:
    return not User.objects.exists() and not Organisation.objects.exists()


def test_an_enterprise_registers_and_lands_on_its_dashboard() -> None:
    client = Client()
    code = send_code(client)
    response = client.post("/accounts/register/enterprise/", enterprise_form(code))
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    user = User.objects.for_mobile(MOBILE).get()
    assert user.role == Role.ENTERPRISE
    assert user.organisation is not None
    assert user.organisation.name == "锦江茶业科技有限公司"
    assert user.organisation.region_id == "510104"
    assert user.password.startswith("argon2")
    page = client.get("/dashboard/")
    assert '<h1 class="h3">工作台</h1>' in page.content.decode()
    assert "企业用户" in page.content.decode()
    assert "锦江茶业科技有限公司" in page.content.decode()
    assert SmsCode.objects.for_mobile(MOBILE).get().used_at is not None


def test_an_sms_code_works_only_once() -> None:
    client = Client()
    code = send_code(client)
    assert client.post("/accounts/register/enterprise/", enterprise_form(code)).status_code == 302
    other = Client()
    response = other.post(
        "/accounts/register/enterprise/",
        enterprise_form(code, mobile=MOBILE, uscc=make_uscc("510104", "MA6XYT789")),
    )
    assert response.status_code == 400
    assert Organisation.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("uscc", "91510104MA6ABC1230", "统一社会信用代码校验位不正确"),
        ("uscc", "915101", "统一社会信用代码应为18位"),
        ("mobile", "1234567", "请输入有效的中国大陆手机号"),
        ("password2", "Another-Password-77", "两次输入的密码不一致"),
        ("region", "999999", "所选区县不存在"),
        ("display_name", "", "请输入姓名"),
        ("agree", "", "请阅读并同意个人信息保护政策"),
    ],
)
def test_bad_registration_input_gets_a_chinese_error_and_creates_nothing(
    field: str, value: str, message: str
) -> None:
    client = Client()
    code = send_code(client)
    data = enterprise_form(code, **{field: value})
    if value == "":
        del data[field]
    response = client.post("/accounts/register/enterprise/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert nothing_was_created()
    assert SmsCode.objects.for_mobile(MOBILE).get().used_at is None


@pytest.mark.parametrize("password", ["short-Pw1", "123456789012", "password1234"])
def test_weak_passwords_are_refused(password: str) -> None:
    client = Client()
    code = send_code(client)
    response = client.post(
        "/accounts/register/enterprise/",
        enterprise_form(code, password1=password, password2=password),
    )
    assert response.status_code == 400
    assert nothing_was_created()


def test_a_wrong_sms_code_is_refused_and_counted() -> None:
    client = Client()
    code = send_code(client)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post("/accounts/register/enterprise/", enterprise_form(wrong))
    assert response.status_code == 400
    assert "短信验证码不正确或已过期" in response.content.decode()
    assert nothing_was_created()
    assert SmsCode.objects.for_mobile(MOBILE).get().attempts == 1


def test_an_expired_sms_code_is_refused() -> None:
    client = Client()
    with time_machine.travel("2026-06-01 08:00:00+08:00", tick=False):
        code = send_code(client)
    with time_machine.travel("2026-06-01 08:11:00+08:00", tick=False):
        response = client.post("/accounts/register/enterprise/", enterprise_form(code))
    assert response.status_code == 400
    assert nothing_was_created()


def test_a_second_code_within_a_minute_is_throttled() -> None:
    client = Client()
    send_code(client)
    response = client.post("/accounts/sms-code/", {"mobile": MOBILE, "purpose": "register"})
    assert response.status_code == 429
    assert SmsCode.objects.for_mobile(MOBILE).count() == 1


def test_an_sms_code_for_a_malformed_number_is_refused() -> None:
    response = Client().post("/accounts/sms-code/", {"mobile": "12345", "purpose": "register"})
    assert response.status_code == 400
    assert "请输入有效的中国大陆手机号" in response.content.decode()
    assert not SmsCode.objects.exists()


def test_an_enterprise_already_registered_cannot_register_again() -> None:
    client = Client()
    code = send_code(client)
    client.post("/accounts/register/enterprise/", enterprise_form(code))
    other = Client()
    code2 = send_code(other, mobile="13981234568")
    response = other.post(
        "/accounts/register/enterprise/", enterprise_form(code2, mobile="13981234568")
    )
    assert response.status_code == 400
    assert "该统一社会信用代码已注册" in response.content.decode()
    assert User.objects.count() == 1


def test_an_sandt_worker_registers_with_a_profile() -> None:
    client = Client()
    code = send_code(client)
    response = client.post(
        "/accounts/register/worker/",
        {
            "display_name": "李华",
            "mobile": MOBILE,
            "sms_code": code,
            "region": "510822",
            "employer": "四川农业大学",
            "title": "副教授",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "agree": "on",
        },
    )
    assert response.status_code == 302
    profile = TalentProfile.objects.get(user__mobile_hash=mobile_lookup(MOBILE))
    assert (profile.region_id, profile.employer, profile.title) == (
        "510822",
        "四川农业大学",
        "副教授",
    )
    assert "我的科技所能档案" in client.get("/dashboard/").content.decode()


def test_a_citizen_registers_and_sees_the_science_feed() -> None:
    client = Client()
    code = send_code(client)
    response = client.post(
        "/accounts/register/citizen/",
        {
            "display_name": "张三",
            "mobile": MOBILE,
            "sms_code": code,
            "region": "510104",
            "occupation": "farmer",
            "age_band": "36_59",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "agree": "on",
        },
    )
    assert response.status_code == 302
    user = User.objects.for_mobile(MOBILE).get()
    assert user.role == Role.CITIZEN
    profile = user.citizen_profile
    assert (profile.region_code, profile.occupation, profile.age_band) == (
        "510104",
        "farmer",
        "36_59",
    )
    assert profile.targeting_consent is False
    assert "我的科普" in client.get("/dashboard/").content.decode()


def test_posting_a_role_field_cannot_make_oneself_staff() -> None:
    client = Client()
    code = send_code(client)
    data = enterprise_form(code) | {"role": "admin", "centre": "1", "is_superuser": "on"}
    assert client.post("/accounts/register/enterprise/", data).status_code == 302
    user = User.objects.for_mobile(MOBILE).get()
    assert (user.role, user.centre_id, user.is_superuser) == (Role.ENTERPRISE, None, False)


def test_an_unknown_registration_kind_is_404() -> None:
    assert Client().get("/accounts/register/staff/").status_code == 404


def test_login_works_with_mobile_or_username() -> None:
    client = Client()
    code = send_code(client)
    client.post("/accounts/register/enterprise/", enterprise_form(code))
    username = User.objects.for_mobile(MOBILE).get().username
    assert MOBILE not in username  # opaque: the number is not in it (security item 16)
    for login_name in (MOBILE, username, "+86 139-8123-4567"):
        c = Client()
        response = c.post("/accounts/login/", {"username": login_name, "password": PASSWORD})
        assert response.status_code == 302, login_name
    bad = Client().post("/accounts/login/", {"username": MOBILE, "password": "wrong-password-1"})
    assert bad.status_code == 200
    assert "手机号/用户名或密码不正确" in bad.content.decode()


def test_a_password_is_reset_with_an_sms_code() -> None:
    client = Client()
    client.post("/accounts/register/enterprise/", enterprise_form(send_code(client)))
    with time_machine.travel("2030-01-01 00:00:00+08:00", tick=False):
        other = Client()
        code = send_code(other, purpose="reset")
        new = "Brand-New-Secret-2030"
        response = other.post(
            "/accounts/password/reset/",
            {"mobile": MOBILE, "sms_code": code, "password1": new, "password2": new},
        )
    assert response.status_code == 302
    assert User.objects.for_mobile(MOBILE).get().check_password("Brand-New-Secret-2030")


def test_a_reset_code_is_not_sent_to_an_unknown_number_and_the_answer_reveals_nothing() -> None:
    response = Client().post("/accounts/sms-code/", {"mobile": MOBILE, "purpose": "reset"})
    assert response.status_code == 200
    assert not SmsMessage.objects.exists()


def test_a_password_change_needs_the_old_password() -> None:
    client = Client()
    client.post("/accounts/register/enterprise/", enterprise_form(send_code(client)))
    new = "Changed-Password-2026"
    bad = client.post(
        "/accounts/password/change/",
        {"old_password": "not-the-password", "new_password1": new, "new_password2": new},
    )
    assert bad.status_code == 200
    assert User.objects.for_mobile(MOBILE).get().check_password(PASSWORD)
    good = client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert good.status_code == 302
    assert User.objects.for_mobile(MOBILE).get().check_password(new)


def test_logout_ends_the_session() -> None:
    client = Client()
    client.post("/accounts/register/enterprise/", enterprise_form(send_code(client)))
    assert client.get("/dashboard/").status_code == 200
    client.post("/accounts/logout/")
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_one_address_cannot_request_codes_for_many_numbers() -> None:
    client = Client()
    for i in range(20):
        response = client.post(
            "/accounts/sms-code/", {"mobile": f"1390000{i:04d}", "purpose": "register"}
        )
        assert response.status_code == 200
    response = client.post("/accounts/sms-code/", {"mobile": "13900009999", "purpose": "register"})
    assert response.status_code == 429
    assert "过于频繁" in response.content.decode()
    assert SmsCode.objects.count() == 20


def test_a_registration_leaves_its_footprint_and_a_refused_one_none() -> None:
    client = Client()
    client.get("/accounts/register/enterprise/")  # the page gives the browser its device id
    device = client.cookies["kjy_device"].value
    code = send_code(client)
    refused = client.post("/accounts/register/enterprise/", enterprise_form("000000"))
    assert refused.status_code == 400 and not Footprint.objects.exists()
    response = client.post("/accounts/register/enterprise/", enterprise_form(code))
    assert response.status_code == 302
    user = User.objects.for_mobile(MOBILE).get()
    kinds = sorted(Footprint.objects.filter(user=user).values_list("kind", flat=True))
    assert kinds == [Footprint.Kind.LOGIN, Footprint.Kind.REGISTER]  # signed in at once
    registered = Footprint.objects.get(user=user, kind=Footprint.Kind.REGISTER)
    assert len(registered.device) == 64 and device not in registered.device
    assert len(registered.network) == 64
