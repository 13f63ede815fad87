from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from bench.anchor.rows.models import Row

PAGE_ROWS = 20


def row_list(request: HttpRequest) -> HttpResponse:
    """The newest 20 rows through a template: the anchor page."""
    rows = Row.objects.order_by("-published_at", "-id")[:PAGE_ROWS]
    return render(request, "rows/list.html", {"rows": rows})
