# The SmsMessage model moves here from accounts. State only: the model keeps the existing
# table `accounts_smsmessage` (and its rows); no SQL is run.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_smsmessage_moves_to_notifications'),
        ('notifications', '0001_targeting_review_campaigns'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='SmsMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('mobile', models.CharField(max_length=11, verbose_name='手机号')),
                        ('body', models.CharField(max_length=500, verbose_name='内容')),
                        ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='时间')),
                    ],
                    options={
                        'verbose_name': '短信发件箱',
                        'verbose_name_plural': '短信发件箱',
                        'db_table': 'accounts_smsmessage',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
