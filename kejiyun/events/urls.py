"""Service conference and docking event pages."""

app_name = "events"

urlpatterns: list = []
