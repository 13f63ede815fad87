"""Public case library pages."""

app_name = "library"

urlpatterns: list = []
