"""A covering index for audience counts on PostgreSQL (bench/popsci_audience.py).

An audience is always "consent given, for the current policy version", usually for some
occupations and age bands, in a region subtree (a `region_code` prefix). This partial index
puts the equality columns first and the region code last with `varchar_pattern_ops`, so the
prefix is an index range, and includes `interest_bits`: a count is an index-only scan. At 10
million profiles it takes the province-wide count of farmers aged 36+ from ~1 s (parallel
sequential scan) to well under the 1 s target (figures in docs/benchmarks.md).

PostgreSQL only, and not part of the model state (Django cannot express the partial
covering index with an operator class on one column portably); SQLite is left alone.
"""

from django.db import migrations

INDEX = "citizen_audience_idx"

CREATE = f"""
CREATE INDEX IF NOT EXISTS {INDEX} ON popsci_citizenprofile
    (consent_version, occupation, age_band, region_code varchar_pattern_ops)
    INCLUDE (interest_bits)
    WHERE targeting_consent
"""
DROP = f"DROP INDEX IF EXISTS {INDEX}"
# A county is ~0.5% of the province; the default 100-bucket histogram over ~3,300 codes
# makes the planner guess a county prefix at ~100 rows instead of ~60,000, and pick the
# plain `region_code` index with a heap visit per row (100x slower). 1,000 buckets fix it.
STATISTICS = "ALTER TABLE popsci_citizenprofile ALTER COLUMN region_code SET STATISTICS {}"


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
        schema_editor.execute(STATISTICS.format(1000))  # nosemgrep: kejiyun-no-formatted-raw-sql -- a constant number


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)
        schema_editor.execute(STATISTICS.format(-1))  # nosemgrep: kejiyun-no-formatted-raw-sql -- a constant number


class Migration(migrations.Migration):
    dependencies = [("popsci", "0002_targeting_review_campaigns")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
