"""Lint the migrations added since the baseline with django-migration-linter (issue 15,
requirement 28): a backward-incompatible operation (dropping or renaming a column or table,
adding a NOT NULL column without a default, ...) in a new migration fails the build.

Migrations listed in tools/migrations-baseline.txt are history and are not linted; every
other migration file under kejiyun/*/migrations/ is. Run by `make security-checks`.
A migration that must break compatibility on purpose says so in its own file, the way the
linter documents (`IgnoreMigration()` in its operations), with the reason beside it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tools" / "migrations-baseline.txt"
INTENDED = ROOT / "tools" / "migrations-intended.txt"


def intended() -> dict[str, str]:
    """Reviewed, deliberate breaks: migration path -> reason (tools/migrations-intended.txt)."""
    out: dict[str, str] = {}
    for line in INTENDED.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            path, _, reason = line.strip().partition("  ")
            if not reason.strip():
                raise SystemExit(f"{INTENDED.name}: {path} needs its reason")
            out[path] = reason.strip()
    return out


def new_migrations() -> list[str]:
    listed = {
        line.strip()
        for line in BASELINE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    on_disk = sorted(
        str(p.relative_to(ROOT))
        for p in ROOT.glob("kejiyun/**/migrations/[0-9]*.py")
        if "/static/" not in str(p)
    )
    return [p for p in on_disk if p not in listed]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kejiyun.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    from django_migration_linter import MigrationLinter

    paths = new_migrations()
    deliberate = intended()
    print(f"django-migration-linter: {len(paths)} migration(s) since the baseline")
    for p in paths:
        print(f"  {p}" + (f"  (deliberate: {deliberate[p]})" if p in deliberate else ""))
    if not paths:
        return 0
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(paths) + "\n")
    try:
        linter = MigrationLinter(
            str(ROOT),
            no_cache=True,
            ignore_name=[Path(p).stem for p in paths if p in deliberate],
        )
        linter.lint_all_migrations(migrations_file_path=listing.name)
        linter.print_summary()
    finally:
        Path(listing.name).unlink()
    return 1 if linter.has_errors else 0


if __name__ == "__main__":
    sys.exit(main())
