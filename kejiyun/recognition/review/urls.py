"""Review pages: the reviewer pool, assignment, scoring and the panel chair's view."""

from django.urls import path

from kejiyun.recognition.review import views

app_name = "review"

urlpatterns = [
    path("pool/", views.pool, name="pool"),
    path("pool/<int:profile_id>/edit/", views.pool_edit, name="pool_edit"),
    path("pool/<int:profile_id>/deactivate/", views.pool_deactivate, name="pool_deactivate"),
    path("batches/<int:batch_id>/assign/", views.assign, name="assign"),
    path("batches/<int:batch_id>/close/", views.close, name="close"),
    path("batches/<int:batch_id>/panel/", views.panel, name="panel"),
    path("mine/", views.queue, name="queue"),
    path("mine/<int:assignment_id>/", views.score, name="score"),
]
