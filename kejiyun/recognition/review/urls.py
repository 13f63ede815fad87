"""Review pages: the reviewer pool, assignment, scoring and the panel chair's view."""

app_name = "review"

urlpatterns: list = []
