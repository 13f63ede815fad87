"""Mobile numbers sealed at rest (security item 16), step 3 of 3: the plaintext columns go;
SMS codes are looked up by the keyed hash."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_seal_mobiles_and_opaque_usernames"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="smscode",
            name="accounts_sm_mobile_107216_idx",
        ),
        migrations.RemoveField(
            model_name="smscode",
            name="mobile",
        ),
        migrations.RemoveField(
            model_name="user",
            name="mobile",
        ),
        migrations.AddIndex(
            model_name="smscode",
            index=models.Index(
                fields=["mobile_hash", "purpose", "-created_at"], name="smscode_mobile_lookup"
            ),
        ),
    ]
