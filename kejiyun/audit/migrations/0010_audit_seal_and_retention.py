"""The chain's seal (the newest row's id and hash), and retention in the database
(docs/security.md items 12 and 13).

On PostgreSQL the append-only trigger now refuses UPDATE always and DELETE of any row younger
than 183 days (the legal floor, 网络安全法 §21), so the purge job can delete old rows and nothing
can delete a young one, whatever the Python code does. The SQL is re-runnable; reversing
restores the old function (refuse every UPDATE and DELETE).
"""

import django.utils.timezone
from django.db import migrations, models

FUNCTION = """
CREATE OR REPLACE FUNCTION audit_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.created_at < now() - interval '183 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused (rows are kept at least 183 days)', TG_OP;
END;
$$ LANGUAGE plpgsql
"""
OLD_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def retention_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)  # the SQL has a literal %


def append_only_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OLD_FUNCTION, params=None)


def seal_from_chain(apps, schema_editor):  # type: ignore[no-untyped-def]
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditSeal = apps.get_model("audit", "AuditSeal")
    newest = AuditEvent.objects.order_by("-id").first()
    AuditSeal.objects.update_or_create(
        pk=1,
        defaults={
            "last_id": newest.pk if newest else 0,
            "last_hash": newest.hash if newest else "",
        },
    )


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0009_security_privacy_groundwork'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditSeal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('last_id', models.BigIntegerField(default=0, verbose_name='最新一条编号')),
                ('last_hash', models.CharField(blank=True, max_length=64, verbose_name='最新一条哈希')),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='更新时间')),
            ],
            options={
                'verbose_name': '审计链头',
                'verbose_name_plural': '审计链头',
            },
        ),
        migrations.RunPython(seal_from_chain, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(retention_trigger, append_only_trigger, elidable=False),
    ]
