"""Mobile numbers sealed at rest (security item 16), step 3 of 3 for notifications: the
plaintext number, text and address columns go."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0006_seal_sms_and_outbox_rows"),
    ]

    operations = [
        migrations.RemoveField(model_name="smsmessage", name="mobile"),
        migrations.RemoveField(model_name="smsmessage", name="body"),
        migrations.RemoveField(model_name="outboxmessage", name="address"),
    ]
