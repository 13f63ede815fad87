from django.apps import AppConfig


class MatchLogConfig(AppConfig):
    """The match index's change log (IndexChange): a low layer that every app which edits a
    profile, demand, team or result writes to. It keeps the label "matching" it was created
    under, so its table and migration history are unchanged."""

    name = "kejiyun.matchlog"
    label = "matching"
    verbose_name = "匹配索引变更"
