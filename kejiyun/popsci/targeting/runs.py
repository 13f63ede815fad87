"""A campaign sent from its page runs in the background (kejiyun/background; ADR 0019).

Safe to run twice: every recipient gets one `Delivery` (unique per campaign and citizen) and
one outbox message (idempotency key per campaign and citizen), and the send skips those
already delivered; an attempt that dies half-way rolled its one transaction back. A run
answers the same campaign only while it is queued or running: pressing send again later
reaches whoever joined the audience since (the same rule as before).
"""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from kejiyun.accounts.models import User
from kejiyun.background.models import Run
from kejiyun.background.progress import Progress
from kejiyun.background.registry import Outcome, handler_register
from kejiyun.popsci.errors import PopsciError
from kejiyun.popsci.targeting.selectors import access_campaign
from kejiyun.popsci.targeting.services import CampaignSendResult, campaign_send

SEND_KIND = "popsci.campaign_send"


def send_key(campaign_id: int, user_id: int) -> str:
    return f"{SEND_KIND}:{campaign_id}:{user_id}"


def send_message(result: CampaignSendResult) -> str:
    return _(
        "已发送：受众 %(audience)s 人，本次新投递 %(new)s 人，渠道不可达 %(unreachable)s 人。"
    ) % {
        "audience": result.audience,
        "new": result.new_deliveries,
        "unreachable": result.unreachable,
    }


def _send(run: Run, progress: Progress) -> Outcome:
    actor = User.objects.get(pk=run.owner_id)
    try:
        campaign = access_campaign(actor, int(run.params["campaign"]))
    except Http404:
        raise PopsciError(_("推送不存在，或您已无权发送。"), code="gone") from None
    result = campaign_send(campaign=campaign, actor=actor, progress=progress)
    return Outcome(
        send_message(result),
        url=reverse("popsci:campaign_detail", kwargs={"campaign_id": campaign.pk}),
        url_label=_("查看推送"),
    )


def register() -> None:
    handler_register(SEND_KIND, _send)
