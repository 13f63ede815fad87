"""No account enumeration (issue 10, item 4): SMS-code requests, registration and password
reset answer a registered and an unregistered number alike — same status, same message,
same throttle and same count of guesses. Only the phone learns the difference."""

import re

import pytest
import time_machine
from django.http import HttpResponse
from django.test import Client

from kejiyun.accounts.models import SmsCode, User
from kejiyun.notifications.models import SmsMessage
from tests.builders import DORA_MOBILE, PASSWORD, make_uscc

pytestmark = pytest.mark.django_db

REGISTERED = DORA_MOBILE  # dora's number
UNREGISTERED = "13981234567"


def sms_request(client: Client, mobile: str, purpose: str) -> HttpResponse:
    return client.post("/accounts/sms-code/", {"mobile": mobile, "purpose": purpose})


def answer(response: HttpResponse, mobile: str) -> tuple[int, str]:
    """Status and body, with the CSRF tokens (fresh on every render) and the echoed mobile
    number taken out."""
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "CSRF", body)
    body = re.sub(r'"X-CSRFToken": "[^"]*"', "CSRF", body)
    return response.status_code, body.replace(mobile, "MOBILE")


def code_in_sms(mobile: str) -> str:
    message = SmsMessage.objects.for_mobile(mobile).latest("id")
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match is not None, message.body
    return match.group(1)


def wrong_code(mobile: str) -> str:
    """A six-digit code that is not the one last texted to `mobile` (if any)."""
    message = SmsMessage.objects.for_mobile(mobile).order_by("-id").first()
    match = re.search(r"\b(\d{6})\b", message.body) if message else None
    return "000000" if match is None or match.group(1) != "000000" else "000001"


def enterprise_form(mobile: str, code: str) -> dict[str, str]:
    return {
        "display_name": "王小明",
        "mobile": mobile,
        "sms_code": code,
        "region": "510104",
        "organisation_name": "锦江茶业科技有限公司",
        "uscc": make_uscc("510104", "MA6ABC123"),
        "industry": "茶叶",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "agree": "on",
    }


def reset_form(mobile: str, code: str) -> dict[str, str]:
    new = "Brand-New-Secret-2030"
    return {"mobile": mobile, "sms_code": code, "password1": new, "password2": new}


@pytest.mark.parametrize("purpose", ["register", "reset"])
def test_sms_code_requests_answer_registered_and_unregistered_numbers_alike(
    dora: User, purpose: str
) -> None:
    with time_machine.travel("2026-06-01 09:00:00+08:00", tick=False) as clock:
        answers = {}
        for mobile in (REGISTERED, UNREGISTERED):
            client = Client()
            first = answer(sms_request(client, mobile, purpose), mobile)
            again = answer(sms_request(client, mobile, purpose), mobile)  # within the minute
            clock.shift(61)
            later = answer(sms_request(client, mobile, purpose), mobile)
            answers[mobile] = (first, again, later)
    assert answers[REGISTERED] == answers[UNREGISTERED]
    first, again, later = answers[REGISTERED]
    assert first == (200, first[1]) and "验证码已发送" in first[1]
    assert again[0] == 429 and "60秒后再试" in again[1]
    assert later == first


def test_one_address_meets_the_same_hourly_limit_whichever_numbers_it_asks_for(
    dora: User,
) -> None:
    client = Client()
    for i in range(19):
        assert sms_request(client, f"1390000{i:04d}", "reset").status_code == 200
    assert sms_request(client, REGISTERED, "reset").status_code == 200
    limited = {
        mobile: answer(sms_request(client, mobile, "reset"), mobile)
        for mobile in (REGISTERED, UNREGISTERED)
    }
    assert limited[REGISTERED] == limited[UNREGISTERED]
    assert limited[REGISTERED][0] == 429


def test_only_the_phone_learns_whether_the_number_is_registered(dora: User) -> None:
    sms_request(Client(), REGISTERED, "register")
    sms_request(Client(), UNREGISTERED, "register")
    notice = SmsMessage.objects.for_mobile(REGISTERED).get().body
    assert "本号码已经注册" in notice and "找回密码" in notice
    assert not re.search(r"\d{6}", notice)  # no registration code for a registered number
    assert re.search(r"\b\d{6}\b", SmsMessage.objects.for_mobile(UNREGISTERED).get().body)
    # A reset sends a code only to the registered number.
    sms_request(Client(), REGISTERED, "reset")
    sms_request(Client(), UNREGISTERED, "reset")
    assert "找回密码验证码" in SmsMessage.objects.for_mobile(REGISTERED).latest("id").body
    assert SmsMessage.objects.for_mobile(UNREGISTERED).count() == 1


def test_registration_answers_a_registered_number_like_any_wrong_code(dora: User) -> None:
    """Six guesses at each number, after asking for a code: the same answers in turn (wrong
    code, then too many attempts), and "already registered" is never said."""
    answers: dict[str, list[tuple[int, str]]] = {}
    for mobile in (REGISTERED, UNREGISTERED):
        client = Client()
        sms_request(client, mobile, "register")
        form = enterprise_form(mobile, wrong_code(mobile))
        answers[mobile] = [
            answer(client.post("/accounts/register/enterprise/", form), mobile) for _ in range(6)
        ]
    assert answers[REGISTERED] == answers[UNREGISTERED]
    bodies = [body for _, body in answers[REGISTERED]]
    assert all(status == 400 for status, _ in answers[REGISTERED])
    assert "短信验证码不正确或已过期" in bodies[0]
    assert "验证码尝试次数过多" in bodies[5]
    assert not any("已注册" in body for body in bodies)
    assert User.objects.count() == 1


def test_registration_reports_a_taken_number_only_after_the_code_is_right(dora: User) -> None:
    """A code sent before the number was taken (say, in a race): a wrong guess is just
    wrong; the right code proves the phone, and then the conflict is reported."""
    client = Client()
    sms_request(client, UNREGISTERED, "register")
    code = code_in_sms(UNREGISTERED)
    dora.mobile = UNREGISTERED
    dora.save(update_fields=["mobile_sealed", "mobile_hash"])
    form = enterprise_form(UNREGISTERED, wrong_code(UNREGISTERED))
    wrong = client.post("/accounts/register/enterprise/", form)
    assert wrong.status_code == 400
    assert "短信验证码不正确或已过期" in wrong.content.decode()
    assert "已注册" not in wrong.content.decode()
    right = client.post("/accounts/register/enterprise/", enterprise_form(UNREGISTERED, code))
    assert right.status_code == 400
    assert "该手机号已注册" in right.content.decode()
    assert User.objects.count() == 1
    assert SmsCode.objects.for_mobile(UNREGISTERED).get().used_at is None


def test_password_reset_answers_a_registered_and_an_unregistered_number_alike(
    dora: User,
) -> None:
    answers: dict[str, list[tuple[int, str]]] = {}
    for mobile in (REGISTERED, UNREGISTERED):
        client = Client()
        sms_request(client, mobile, "reset")
        form = reset_form(mobile, wrong_code(mobile))
        answers[mobile] = [
            answer(client.post("/accounts/password/reset/", form), mobile) for _ in range(6)
        ]
    assert answers[REGISTERED] == answers[UNREGISTERED]
    assert "短信验证码不正确或已过期" in answers[REGISTERED][0][1]
    assert "验证码尝试次数过多" in answers[REGISTERED][5][1]
    dora.refresh_from_db()
    assert dora.check_password(PASSWORD)
