"""The audit log table; on PostgreSQL a trigger refuses UPDATE and DELETE
(docs/requirements/security.md item 12).

SQLite has no such trigger: there the hash chain (`audit_verify`) detects an altered row.
The SQL is re-runnable (CREATE OR REPLACE, DROP ... IF EXISTS).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

FUNCTION = """
CREATE OR REPLACE FUNCTION audit_auditevent_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""
TRIGGER = """
CREATE TRIGGER audit_auditevent_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_auditevent_refuse_change()
"""
DROP_TRIGGER = "DROP TRIGGER IF EXISTS audit_auditevent_append_only ON audit_auditevent"
DROP_FUNCTION = "DROP FUNCTION IF EXISTS audit_auditevent_refuse_change()"


def trigger_create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)  # the SQL has a literal %
        schema_editor.execute(DROP_TRIGGER)
        schema_editor.execute(TRIGGER)


def trigger_drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER)
        schema_editor.execute(DROP_FUNCTION)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name='时间')),
                ('ip', models.GenericIPAddressField(blank=True, null=True, verbose_name='IP 地址')),
                ('action', models.CharField(db_index=True, max_length=40, verbose_name='操作')),
                ('object_type', models.CharField(blank=True, max_length=40, verbose_name='对象类型')),
                ('object_id', models.CharField(blank=True, max_length=40, verbose_name='对象编号')),
                ('outcome', models.CharField(choices=[('ok', '成功'), ('refused', '拒绝')], default='ok', max_length=10, verbose_name='结果')),
                ('detail', models.JSONField(blank=True, default=dict, verbose_name='详情')),
                ('prev_hash', models.CharField(blank=True, max_length=64, verbose_name='上一条哈希')),
                ('hash', models.CharField(max_length=64, unique=True, verbose_name='哈希')),
                ('user', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='用户')),
            ],
            options={
                'verbose_name': '审计事件',
                'verbose_name_plural': '审计事件',
                'ordering': ['-id'],
            },
        ),
        migrations.RunPython(trigger_create, trigger_drop, elidable=False),
    ]
