from django.contrib.auth import views as auth_views
from django.urls import path

from kejiyun.accounts import views
from kejiyun.accounts.forms import KejiyunPasswordChangeForm, LoginForm

app_name = "accounts"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html",
            authentication_form=LoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("sms-code/", views.sms_code_request, name="sms_code"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password_change.html",
            form_class=KejiyunPasswordChangeForm,
            success_url="/accounts/password/change/done/",
        ),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("profile/", views.profile, name="profile"),
    path("unmask/", views.unmask, name="unmask"),
    path("staff/organisations/", views.staff_organisations, name="staff_organisations"),
]
