"""Mobile numbers sealed at rest (security item 16), step 1 of 3 for notifications: sealed
columns beside the plaintext ones of the SMS outbox and of the message outbox."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0004_webhook_channel"),
    ]

    operations = [
        migrations.AddField(
            model_name="smsmessage",
            name="mobile_sealed",
            field=models.TextField(default="", verbose_name="手机号（加密）"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="smsmessage",
            name="mobile_hash",
            field=models.CharField(
                db_index=True, default="", max_length=64, verbose_name="手机号查找码"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="smsmessage",
            name="body_sealed",
            field=models.TextField(default="", verbose_name="内容（加密）"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="outboxmessage",
            name="address_sealed",
            field=models.TextField(blank=True, default="", verbose_name="地址（加密）"),
        ),
    ]
