# The SmsMessage model moves to the notifications app (the SMS plug-in sits below accounts).
# State only: the table `accounts_smsmessage` and its rows stay where they are;
# notifications.0002_smsmessage_moves_from_accounts takes the model over with that table.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_login_failures'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='SmsMessage',
                ),
            ],
            database_operations=[],
        ),
    ]
