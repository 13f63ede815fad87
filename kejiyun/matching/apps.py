from django.apps import AppConfig


class MatchingConfig(AppConfig):
    """The matching engine inside the platform: the index built from profiles, demands,
    teams and results, the ranked lists with reasons, batch docking and the pages that show
    them. It sits above cases; the change log it follows is `kejiyun.matchlog`."""

    name = "kejiyun.matching"
    label = "matching_integration"
    verbose_name = "精准对接"

    def ready(self) -> None:
        # Index rebuilds from the staff page run in the background (kejiyun/background).
        from kejiyun.matching.rebuild import register

        register()
