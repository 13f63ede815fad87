from django.apps import AppConfig


class MatchingConfig(AppConfig):
    """The matching engine inside the platform: the index built from profiles, demands,
    teams and results, the ranked lists with reasons, batch docking and the pages that show
    them. It sits above cases; the change log it follows is `kejiyun.matchlog`."""

    name = "kejiyun.matching"
    label = "matching_integration"
    verbose_name = "精准对接"
