from django.apps import AppConfig


class RegistrationConfig(AppConfig):
    """Sign-up of S&T workers, enterprises and citizens: the user and the role's profile."""

    name = "kejiyun.registration"
    label = "registration"
    verbose_name = "注册"
