"""POST-redirect-GET (issue 10, item 10): a successful registration or quiz answer is
followed by a redirect, and the result is shown by the GET that follows, so reloading the
result page sends nothing again."""

import re

import pytest
from django.test import Client

from kejiyun.accounts.models import User
from kejiyun.notifications.models import SmsMessage
from kejiyun.popsci.models import QuizAttempt, ReadEvent
from tests.builders import PASSWORD, client_for, make_published

pytestmark = pytest.mark.django_db

MOBILE = "13981234567"


def test_registration_redirects_and_the_next_page_greets_the_new_user() -> None:
    client = Client()
    client.post("/accounts/sms-code/", {"mobile": MOBILE, "purpose": "register"})
    code = re.search(r"\b(\d{6})\b", SmsMessage.objects.for_mobile(MOBILE).get().body)
    assert code is not None
    response = client.post(
        "/accounts/register/citizen/",
        {
            "display_name": "张三",
            "mobile": MOBILE,
            "sms_code": code.group(1),
            "region": "510104",
            "occupation": "farmer",
            "age_band": "36_59",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "agree": "on",
        },
    )
    assert response.status_code == 302
    assert response.content == b""
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "注册成功，欢迎您，张三！" in page.content.decode()
    assert "注册成功" not in client.get(response["Location"]).content.decode()  # shown once
    assert User.objects.for_mobile(MOBILE).count() == 1


def test_a_quiz_answer_redirects_to_its_result_in_the_same_reading_session(
    alice: User, rita: User, dora: User
) -> None:
    article = make_published(alice, rita)
    client = client_for(dora)
    client.get(f"/popsci/read/{article.pk}/")
    event = ReadEvent.objects.get()
    q1, q2, q3 = article.questions.order_by("order")
    answers = {"phase": "after", "event": str(event.pk), f"q{q1.pk}": "1", f"q{q2.pk}": "0"}
    response = client.post(f"/popsci/read/{article.pk}/quiz/", {**answers, f"q{q3.pk}": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"/popsci/read/{article.pk}/quiz/?event={event.pk}#quiz"
    assert "答对" not in response.content.decode()
    result = client.get(response["Location"])
    html = result.content.decode()
    assert result.status_code == 200
    assert '<p class="fw-semibold" data-result="after">' in html
    assert "学习后测验：答对 2/3 题。" in html
    assert f'action="/popsci/read/event/{event.pk}/finish/"' in html  # the same session
    # Showing the result again opens no new reading session and records no new answer.
    client.get(response["Location"])
    assert ReadEvent.objects.count() == 1
    assert QuizAttempt.objects.count() == 1


def test_the_result_page_does_not_show_another_readers_session(
    alice: User, rita: User, dora: User
) -> None:
    article = make_published(alice, rita)
    client_for(alice).get(f"/popsci/read/{article.pk}/")
    others = ReadEvent.objects.get()
    response = client_for(dora).get(f"/popsci/read/{article.pk}/quiz/?event={others.pk}")
    assert response.status_code == 404
