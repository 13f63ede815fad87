from django.urls import path

from kejiyun.talent import views

app_name = "talent"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("me/", views.me, name="me"),
    path(
        "classifications/<str:kind>/children/",
        views.classification_children,
        name="classification_children",
    ),
    path(
        "classifications/<str:kind>/search/",
        views.classification_search,
        name="classification_search",
    ),
    path("me/directory-consent/", views.me_directory_consent, name="me_directory_consent"),
    path("me/results/", views.me_results, name="me_results"),
    path("me/results/<int:result_id>/", views.me_result_edit, name="me_result_edit"),
    path("me/results/<int:result_id>/delete/", views.me_result_delete, name="me_result_delete"),
    path("me/teams/", views.me_teams, name="me_teams"),
    path("me/teams/new/", views.me_team_new, name="me_team_new"),
    path("me/teams/<int:team_id>/", views.me_team_edit, name="me_team_edit"),
    path("me/teams/<int:team_id>/members/", views.me_team_member_add, name="me_team_member_add"),
    path("me/teams/<int:team_id>/leave/", views.me_team_leave, name="me_team_leave"),
    path(
        "me/teams/<int:team_id>/members/<int:member_id>/remove/",
        views.me_team_member_remove,
        name="me_team_member_remove",
    ),
    path("staff/", views.staff_talent, name="staff_list"),
    path("staff/<int:profile_id>/", views.staff_talent_detail, name="staff_detail"),
    path("staff/duplicates/", views.staff_duplicates, name="staff_duplicates"),
    path(
        "staff/duplicates/<int:ticket_id>/close/",
        views.staff_duplicate_close,
        name="staff_duplicate_close",
    ),
    path("staff/teams/", views.staff_teams, name="staff_teams"),
    path("staff/teams/<int:team_id>/", views.staff_team_detail, name="staff_team_detail"),
    path("staff/resources/", views.staff_resources, name="staff_resources"),
    path("staff/resources/new/", views.staff_resource_new, name="staff_resource_new"),
    path(
        "staff/resources/<int:resource_id>/",
        views.staff_resource_detail,
        name="staff_resource_detail",
    ),
    path(
        "staff/resources/<int:resource_id>/edit/",
        views.staff_resource_edit,
        name="staff_resource_edit",
    ),
]
