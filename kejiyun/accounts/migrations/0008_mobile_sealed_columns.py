"""Mobile numbers sealed at rest (security item 16), step 1 of 3: the new columns beside the
old ones. 0009 fills them, 0010 drops the plaintext columns."""

import kejiyun.accounts.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_security_privacy_groundwork"),
    ]

    operations = [
        migrations.AlterModelManagers(
            name="user",
            managers=[
                ("objects", kejiyun.accounts.models.KejiyunUserManager()),
            ],
        ),
        migrations.AddField(
            model_name="user",
            name="mobile_sealed",
            field=models.TextField(blank=True, default="", verbose_name="手机号（加密）"),
        ),
        migrations.AddField(
            model_name="user",
            name="mobile_hash",
            field=models.CharField(
                blank=True,
                editable=False,
                max_length=64,
                null=True,
                unique=True,
                verbose_name="手机号查找码",
            ),
        ),
        migrations.AddField(
            model_name="smscode",
            name="mobile_hash",
            field=models.CharField(default="", max_length=64, verbose_name="手机号查找码"),
            preserve_default=False,
        ),
    ]
