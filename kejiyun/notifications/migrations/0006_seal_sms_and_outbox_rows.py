"""Mobile numbers sealed at rest (security item 16), step 2 of 3 for notifications: seal the
SMS outbox's numbers and texts (a text may carry a one-time code) and every outbox message's
address (a mobile number, an openid or a webhook subscription). Reversible: backwards opens
them into the plaintext columns again. The purposes must never change
(kejiyun/notifications/models.py)."""

from django.db import migrations

from kejiyun.common.crypto import lookup_hash, seal, unseal

SMS_MOBILE_PURPOSE = "notifications.sms.mobile"
SMS_BODY_PURPOSE = "notifications.sms.body"
OUTBOX_ADDRESS_PURPOSE = "notifications.outbox.address"
LOOKUP_PURPOSE = "mobile"  # kejiyun.common.crypto.MOBILE_LOOKUP_PURPOSE
BATCH = 2000


def _in_batches(queryset, fields, change):
    batch = []
    for row in queryset.iterator(chunk_size=BATCH):
        change(row)
        batch.append(row)
        if len(batch) >= BATCH:
            queryset.model.objects.bulk_update(batch, fields)
            batch = []
    queryset.model.objects.bulk_update(batch, fields)


def seal_forward(apps, schema_editor):
    SmsMessage = apps.get_model("notifications", "SmsMessage")
    OutboxMessage = apps.get_model("notifications", "OutboxMessage")

    def sms(row):
        row.mobile_sealed = seal(row.mobile, purpose=SMS_MOBILE_PURPOSE)
        row.mobile_hash = lookup_hash(row.mobile, purpose=LOOKUP_PURPOSE)
        row.body_sealed = seal(row.body, purpose=SMS_BODY_PURPOSE)

    def outbox(row):
        row.address_sealed = seal(row.address, purpose=OUTBOX_ADDRESS_PURPOSE)

    _in_batches(
        SmsMessage.objects.only("pk", "mobile", "body"),
        ["mobile_sealed", "mobile_hash", "body_sealed"],
        sms,
    )
    _in_batches(
        OutboxMessage.objects.exclude(address="").only("pk", "address"),
        ["address_sealed"],
        outbox,
    )


def seal_backward(apps, schema_editor):
    SmsMessage = apps.get_model("notifications", "SmsMessage")
    OutboxMessage = apps.get_model("notifications", "OutboxMessage")

    def sms(row):
        row.mobile = unseal(row.mobile_sealed, purpose=SMS_MOBILE_PURPOSE)
        row.body = unseal(row.body_sealed, purpose=SMS_BODY_PURPOSE)

    def outbox(row):
        row.address = unseal(row.address_sealed, purpose=OUTBOX_ADDRESS_PURPOSE)

    _in_batches(
        SmsMessage.objects.only("pk", "mobile_sealed", "body_sealed"), ["mobile", "body"], sms
    )
    _in_batches(
        OutboxMessage.objects.exclude(address_sealed="").only("pk", "address_sealed"),
        ["address"],
        outbox,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0005_sealed_sms_and_outbox_columns"),
    ]

    operations = [migrations.RunPython(seal_forward, seal_backward)]
