"""The public case library (案例库): anyone, signed in or not, may search it and open a case.
Only cases in `library_cases` are shown, and only their public fields (`LibraryEntry`)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kejiyun.recognition.library.forms import LibraryForm
from kejiyun.recognition.library.selectors import (
    access_library_case,
    library_cases,
    library_entry,
    library_industries,
    library_years,
)

PAGE_SIZE = 20


def library(request: HttpRequest) -> HttpResponse:
    form = LibraryForm(request.GET, industries=library_industries(), years=library_years())
    page = Paginator(library_cases(form.library_filters()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "recognition/library/list.html",
        {
            "form": form,
            "page": page,
            "rows": [library_entry(case) for case in page],
            "extra_query": form.query_string(),
        },
    )


def detail(request: HttpRequest, case_id: int) -> HttpResponse:
    return render(
        request, "recognition/library/detail.html", {"entry": access_library_case(case_id)}
    )
