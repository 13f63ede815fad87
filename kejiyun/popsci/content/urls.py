"""Content pages: the public list (/popsci/, /popsci/<id>/), staff drafting
(/popsci/manage/…), science review (/popsci/review/…) and reading (/popsci/read/…).
Included by popsci/urls.py under the "popsci" namespace."""

from django.urls import URLPattern, path

from kejiyun.popsci.content import views as v

urlpatterns: list[URLPattern] = [
    path("", v.article_list, name="list"),
    path("<int:article_id>/", v.article_detail, name="detail"),
    path("manage/", v.manage_list, name="content_manage"),
    path("manage/new/", v.manage_new, name="content_new"),
    path("manage/<int:article_id>/", v.manage_detail, name="content_manage_detail"),
    path("manage/<int:article_id>/edit/", v.manage_edit, name="content_edit"),
    path("manage/<int:article_id>/submit/", v.manage_submit, name="content_submit"),
    path("manage/<int:article_id>/archive/", v.manage_archive, name="content_archive"),
    path("manage/<int:article_id>/withdraw/", v.manage_withdraw, name="content_withdraw"),
    path("review/", v.review_queue, name="content_review_queue"),
    path("review/<int:article_id>/", v.review, name="content_review"),
    path("read/<int:article_id>/", v.content_read, name="content_read"),
    path("read/<int:article_id>/quiz/", v.content_quiz, name="content_quiz"),
    path("read/event/<int:read_event_id>/finish/", v.content_read_finish, name="read_finish"),
]
