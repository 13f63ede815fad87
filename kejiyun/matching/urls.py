from django.urls import path

from kejiyun.matching import rebuild_views, views

app_name = "matching"

urlpatterns = [
    path("demands/<int:demand_id>/", views.demand_matches, name="demand_matches"),
    path("cases/<int:case_id>/", views.case_matches, name="case_matches"),
    path("docking-plan/", views.docking_plan_view, name="docking_plan"),
    path("index/", rebuild_views.index_rebuild, name="index_rebuild"),
    path("demands/<int:demand_id>/for-me/", views.demand_for_worker, name="demand_for_worker"),
    path(
        "cases/<int:case_id>/for-enterprise/",
        views.enterprise_case_matches,
        name="enterprise_case_matches",
    ),
    path("dockings/<int:docking_id>/", views.docking_match, name="docking_match"),
]
