"""Pages for science content: the public list, staff drafting, the reviewers' queue, and
the reading page.

Views check input with forms, find objects through `access_*` selectors and write through
services; nothing here decides a rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from kejiyun.accounts.footprints import device_cookie_set, device_id
from kejiyun.accounts.guards import AuthenticatedRequest, reviewer_required, staff_required
from kejiyun.common.errors import ServiceError
from kejiyun.common.masking import mask_personal_text
from kejiyun.common.refusals import refusal_status, refusal_text
from kejiyun.pagecache.fragments import fragment
from kejiyun.pagecache.services import POPSCI
from kejiyun.popsci.content.forms import (
    ContentForm,
    LessonFormSet,
    QuestionFormSet,
    ReviewForm,
    lesson_initial,
    question_initial,
)
from kejiyun.popsci.content.selectors import (
    access_content,
    access_read_event,
    access_readable_content,
    access_review,
    article_published,
    articles_published,
    campaign_delivered_to,
    content_events,
    content_for_staff,
    content_labels,
    content_review_queue,
    content_with_parts,
    quiz_attempts_of,
    quiz_feedback,
)
from kejiyun.popsci.content.services import (
    EDITABLE_STATUSES,
    content_approve,
    content_archive,
    content_create,
    content_problems,
    content_return,
    content_submit,
    content_update,
    content_withdraw,
    lessons_replace,
    quiz_questions_replace,
    quiz_submit,
    read_finish,
    read_open,
)
from kejiyun.popsci.content.transitions import CONTENT_MOVES
from kejiyun.popsci.models import Article, QuizAttempt, ReadEvent, Topic

View = Callable[..., HttpResponseBase]


def _is_id(raw: str) -> bool:
    """ASCII digits that int() accepts (str.isdigit() also accepts "²")."""
    return raw.isascii() and raw.isdigit() and len(raw) <= 18


# --- The public list ----------------------------------------------------------------------


def article_list(request: HttpRequest) -> HttpResponse:
    """The public list of published content, by topic. The same for every visitor, so it
    comes from the page cache (one query when cached); publishing, archiving or
    withdrawing content shows at once."""
    topic = request.GET.get("topic", "")
    if topic not in Topic.values:
        topic = ""
    number = request.GET.get("page", "")
    body = fragment(
        "popsci:list",
        topics=(POPSCI,),
        parts=(topic, number),
        build=lambda: _list_body(topic, number),
    )
    return render(request, "popsci/list.html", {"body": body})


def _list_body(topic: str, number: str) -> str:
    qs = articles_published().defer("body")
    if topic:
        qs = qs.filter(topic=topic)
    page = Paginator(qs, 20).get_page(number)
    return render_to_string(
        "popsci/_list_body.html", {"page": page, "topic": topic, "topics": Topic.choices}
    )


def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    """A published article, the same for every visitor (from the page cache)."""
    title, body = fragment(
        "popsci:detail",
        topics=(POPSCI,),
        parts=(article_id,),
        build=lambda: _detail_body(article_id),
    )
    return render(request, "popsci/detail.html", {"title": title, "body": body})


def _detail_body(article_id: int) -> tuple[str, str]:
    """The page title and body of a published article; 404 for any other."""
    article = article_published(article_id)
    if article is None:
        raise Http404("文章不存在或尚未发布")
    body = render_to_string("popsci/_detail_body.html", {"article": article})
    return mask_personal_text(article.title), body


# --- Staff --------------------------------------------------------------------------------


@staff_required
def manage_list(request: AuthenticatedRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    qs = content_for_staff(user=request.user)
    if status in Article.Status.values:
        qs = qs.filter(status=status)
    else:
        status = ""
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "popsci/content/manage_list.html",
        {
            "page": page,
            "status": status,
            "statuses": Article.Status.choices,
            "extra_query": f"status={status}" if status else "",
        },
    )


def _apply_form_errors(form: ContentForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _content_form_page(
    request: AuthenticatedRequest, article: Article | None
) -> tuple[bool, HttpResponse | None, dict[str, Any]]:
    """Bind, validate and save the content form with its quiz and lessons."""
    user = request.user
    if request.method == "POST":
        form = ContentForm(request.POST, request.FILES, user=user)
        questions = QuestionFormSet(request.POST, prefix="q")
        lessons = LessonFormSet(request.POST, prefix="l")
        if form.is_valid() and questions.is_valid() and lessons.is_valid():
            data = form.cleaned_data
            fields: dict[str, Any] = {
                "kind": data["kind"],
                "title": data["title"],
                "topic": data["topic"],
                "body": data["body"],
                "summary": data["summary"],
                "segments": data["segments"],
                "seasons": data["seasons"],
                "region": data["region"],
                "image": data["image"] or None,
                "poster": data["poster"] or None,
                "video": data["video"] or None,
            }
            quiz = [q for q in (f.question() for f in questions) if q is not None]
            course_lessons = [x for x in (f.lesson() for f in lessons) if x is not None]
            try:
                with transaction.atomic():
                    if article is None:
                        article = content_create(actor=user, **fields)
                    else:
                        article = content_update(article=article, actor=user, **fields)
                    quiz_questions_replace(article=article, actor=user, questions=quiz)
                    if article.kind == Article.Kind.COURSE:
                        lessons_replace(course=article, actor=user, lessons=course_lessons)
            except ServiceError as error:
                _apply_form_errors(form, error)
            else:
                messages.success(request, "已保存草稿。")
                return True, redirect("popsci:content_manage_detail", article.pk), {}
    else:
        initial = ContentForm.initial_from(article) if article else {}
        form = ContentForm(initial=initial, user=user)
        questions = QuestionFormSet(initial=question_initial(article), prefix="q")
        lessons = LessonFormSet(initial=lesson_initial(article), prefix="l")
    return False, None, {"form": form, "questions": questions, "lessons": lessons}


@staff_required
def manage_new(request: AuthenticatedRequest) -> HttpResponse:
    done, response, context = _content_form_page(request, None)
    if done and response is not None:
        return response
    # A refused form (a file that did not parse included) answers 400; nothing was stored.
    status = 400 if request.method == "POST" else 200
    return render(
        request, "popsci/content/manage_form.html", {**context, "article": None}, status=status
    )


@staff_required
def manage_edit(request: AuthenticatedRequest, article_id: int) -> HttpResponse:
    article = access_content(request.user, article_id)
    if article.status not in EDITABLE_STATUSES:
        messages.error(request, "只有草稿或退回修改的内容可以编辑；已发布的内容请先撤回修改。")
        return redirect("popsci:content_manage_detail", article.pk)
    done, response, context = _content_form_page(request, content_with_parts(article.pk))
    if done and response is not None:
        return response
    status = 400 if request.method == "POST" else 200
    return render(
        request, "popsci/content/manage_form.html", {**context, "article": article}, status=status
    )


@staff_required
def manage_detail(request: AuthenticatedRequest, article_id: int) -> HttpResponse:
    access_content(request.user, article_id)
    article = content_with_parts(article_id)
    allowed = CONTENT_MOVES[article.status]
    return render(
        request,
        "popsci/content/manage_detail.html",
        {
            "article": article,
            "editable": article.status in EDITABLE_STATUSES,
            "can_submit": Article.Status.IN_REVIEW in allowed,
            "can_archive": Article.Status.ARCHIVED in allowed,
            "can_withdraw": article.status == Article.Status.PUBLISHED,
            "problems": content_problems(article) if article.status in EDITABLE_STATUSES else [],
            "versions": article.versions.select_related("reviewer").order_by("-number"),
            "events": content_events(article),
            "labels": content_labels(article),
        },
    )


def _staff_action(action: Callable[..., Article], success: str) -> View:
    @staff_required
    @require_POST
    def view(request: AuthenticatedRequest, article_id: int) -> HttpResponse:
        article = access_content(request.user, article_id)
        try:
            action(article=article, actor=request.user)
        except ServiceError as error:
            # Not run_service: a refused submit lists every missing part, one message each.
            for text in error.messages:
                messages.error(request, text)
        else:
            messages.success(request, success)
        return redirect("popsci:content_manage_detail", article.pk)

    return view


manage_submit = _staff_action(content_submit, "已提交科学性审核。")
manage_archive = _staff_action(content_archive, "内容已下架。")
manage_withdraw = _staff_action(content_withdraw, "已撤回修改：内容已隐藏，修改后需重新审核。")


# --- Reviewers ----------------------------------------------------------------------------


@reviewer_required
def review_queue(request: AuthenticatedRequest) -> HttpResponse:
    page = Paginator(content_review_queue(), 25).get_page(request.GET.get("page"))
    return render(request, "popsci/content/review_queue.html", {"page": page})


@reviewer_required
def review(request: AuthenticatedRequest, article_id: int) -> HttpResponse:
    reviewer = request.user
    article = content_with_parts(access_review(reviewer, article_id).pk)
    status = 200
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data["note"]
        try:
            if form.cleaned_data["decision"] == "approve":
                version = content_approve(article=article, actor=reviewer, note=note)
                messages.success(request, f"已通过审核并发布第 {version.number} 版。")
            else:
                content_return(article=article, actor=reviewer, note=note)
                messages.success(request, "已退回修改。")
        except (ServiceError, PermissionDenied) as error:
            form.add_error(None, refusal_text(error))
            status = refusal_status(error)  # 403 when the reviewer may not review it
        else:
            return redirect("popsci:content_review_queue")
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "popsci/content/review.html",
        {
            "article": article,
            "form": form,
            "own": article.author_id == reviewer.pk,
            "labels": content_labels(article),
        },
        status=status,
    )


# --- Reading ------------------------------------------------------------------------------


def _render_read(
    request: AuthenticatedRequest,
    article: Article,
    *,
    event: ReadEvent | None,
    status: int = 200,
    quiz_error: str = "",
) -> HttpResponse:
    user = request.user
    attempts: dict[str, QuizAttempt] = {}
    if user.is_authenticated:
        attempts = quiz_attempts_of(user=request.user, article=article)
    has_quiz = bool(article.questions.all())
    is_course = article.kind == Article.Kind.COURSE
    before = attempts.get(QuizAttempt.Phase.BEFORE)
    after = attempts.get(QuizAttempt.Phase.AFTER)
    context = {
        "article": article,
        "labels": content_labels(article),
        "event": event,
        "has_quiz": has_quiz,
        "quiz_error": quiz_error,
        # A course offers a pre-test until either phase was taken; the pre-test shows the
        # score only, so the answers are not given away before studying.
        "offer_before": has_quiz and is_course and before is None and after is None,
        "offer_after": has_quiz and after is None,
        "before": before,
        "after_feedback": quiz_feedback(article=article, attempt=after) if after else None,
    }
    return render(request, "popsci/content/read.html", context, status=status)


def content_read(request: AuthenticatedRequest, article_id: int) -> HttpResponse:
    """The reading page: published content only; a signed-in reader's session is recorded."""
    article = access_readable_content(article_id)
    device, new = device_id(request)
    event = None
    if request.user.is_authenticated:
        user = request.user
        raw = request.GET.get("campaign", "")
        campaign = (
            campaign_delivered_to(user=user, article=article, campaign_id=int(raw))
            if _is_id(raw)
            else None
        )
        event = read_open(article=article, actor=user, device=device, campaign=campaign)
    return device_cookie_set(_render_read(request, article, event=event), device, new)


def _own_event(request: AuthenticatedRequest, article: Article, raw: str) -> ReadEvent | None:
    if not _is_id(raw):
        return None
    event = access_read_event(request.user, int(raw))
    return event if event.article_id == article.pk else None


@login_required
@require_http_methods(["GET", "POST"])
def content_quiz(request: AuthenticatedRequest, article_id: int) -> HttpResponse:
    """POST: answer the quiz, then redirect (POST-redirect-GET). GET: the reading page with
    the reader's quiz results, in the same reading session (`event`), so showing the result
    opens no new session and a reload sends nothing again."""
    article = access_readable_content(article_id)
    if request.method == "GET":
        event = _own_event(request, article, request.GET.get("event", ""))
        return _render_read(request, article, event=event)
    answers: list[int] = []
    for question in article.questions.all():
        raw = request.POST.get(f"q{question.pk}", "")
        if _is_id(raw):
            answers.append(int(raw))
    phase = request.POST.get("phase", QuizAttempt.Phase.AFTER)
    event = _own_event(request, article, request.POST.get("event", ""))
    try:
        attempt = quiz_submit(article=article, actor=request.user, answers=answers, phase=phase)
    except ServiceError as error:
        return _render_read(
            request,
            article,
            event=event,
            status=refusal_status(error),
            quiz_error=refusal_text(error),
        )
    messages.success(
        request,
        f"已提交{attempt.get_phase_display()}测验：答对 {attempt.correct}/{attempt.total} 题。",
    )
    result_url = reverse("popsci:content_quiz", args=[article.pk])
    if event is not None:
        result_url += f"?event={event.pk}"
    return redirect(result_url + "#quiz")


@login_required
@require_POST
def content_read_finish(request: AuthenticatedRequest, read_event_id: int) -> HttpResponse:
    event = access_read_event(request.user, read_event_id)
    read_finish(read_event=event, actor=request.user)
    if request.headers.get("HX-Request"):
        return render(request, "popsci/content/_read_finished.html", {"event": event})
    article = access_readable_content(event.article_id)
    messages.success(request, "已记录：您已读完。")
    return _render_read(request, article, event=event)
