"""Recognition pages (典型选树): batches, applications, review, public notice and results."""

app_name = "recognition"

urlpatterns: list = []
