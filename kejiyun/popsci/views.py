from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kejiyun.popsci.models import Topic
from kejiyun.popsci.selectors import article_published, articles_published


def article_list(request: HttpRequest) -> HttpResponse:
    topic = request.GET.get("topic", "")
    qs = articles_published()
    if topic in Topic.values:
        qs = qs.filter(topic=topic)
    else:
        topic = ""
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(
        request, "popsci/list.html", {"page": page, "topic": topic, "topics": Topic.choices}
    )


def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    article = article_published(article_id)
    if article is None:
        raise Http404("文章不存在或尚未发布")
    return render(request, "popsci/detail.html", {"article": article})
