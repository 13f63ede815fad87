import time

from django.db import migrations, models


def matching_create(apps, schema_editor):
    """The matching generation's row, starting at the time in milliseconds (as 0001)."""
    ContentGeneration = apps.get_model("pagecache", "ContentGeneration")  # noqa: N806
    ContentGeneration.objects.get_or_create(
        topic="matching", defaults={"number": int(time.time() * 1000)}
    )


class Migration(migrations.Migration):
    dependencies = [
        ("pagecache", "0001_content_generations"),
    ]

    operations = [
        migrations.AlterField(
            model_name="contentgeneration",
            name="topic",
            field=models.CharField(
                choices=[
                    ("demands", "已发布需求"),
                    ("talent", "专家名录"),
                    ("popsci", "科普内容"),
                    ("matching", "匹配索引"),
                ],
                max_length=16,
                primary_key=True,
                serialize=False,
                verbose_name="内容",
            ),
        ),
        migrations.RunPython(matching_create, migrations.RunPython.noop),
    ]
