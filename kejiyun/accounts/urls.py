from django.contrib.auth import views as auth_views
from django.urls import path

from kejiyun.accounts import views
from kejiyun.accounts.forms import LoginForm

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
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path("profile/", views.profile, name="profile"),
    path("security/", views.security, name="security"),
    path("second-factor/enrol/", views.otp_enrol, name="otp_enrol"),
    path("second-factor/verify/", views.otp_verify, name="otp_verify"),
    path("second-factor/recovery-codes/", views.otp_recovery_codes, name="otp_recovery_codes"),
    path("second-factor/reset/<int:user_id>/", views.otp_reset, name="otp_reset"),
    path("unmask/", views.unmask, name="unmask"),
    path("staff/organisations/", views.staff_organisations, name="staff_organisations"),
]
