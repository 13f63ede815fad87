# The resident identity number, stored sealed with a keyed lookup hash
# (docs/requirements/security.md item 16).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("talent", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="talentprofile",
            name="id_number_sealed",
            field=models.TextField(blank=True, verbose_name="身份证号（加密）"),
        ),
        migrations.AddField(
            model_name="talentprofile",
            name="id_number_hash",
            field=models.CharField(
                blank=True, db_index=True, max_length=64, verbose_name="身份证号查找码"
            ),
        ),
    ]
