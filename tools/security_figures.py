"""Print the headline security figures of issue 15 (docs/security.md, "Headline figures")
with their targets, from var/security-figures/*.json (written by tests/security_figures.py
during the suites), and fail when an expected figure is missing or off target.

    python tools/security_figures.py                 # as `make test` runs it
    python tools/security_figures.py --allow-missing # a branch that measures only some

A figure is on target when its value meets the rule below for its kind:
  "A of B" (e.g. "10240 of 10240")  A == B, and B >= the figure's minimum if it has one;
  a count (0, "0")                   equal to 0;
  a percentage ("100%")              equal to "100%".
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

FIGURES_DIR = Path(__file__).resolve().parent.parent / "var" / "security-figures"

# name -> (what it counts, the smallest sample it must cover for "A of B" figures)
EXPECTED: dict[str, tuple[str, int]] = {
    "cross_jurisdiction_refused": (
        "staff requests for another jurisdiction's objects refused",
        10_000,
    ),
    "permission_matrix_coverage": ("URL × method entries of the permission matrix proved", 0),
    "full_values_in_pages_and_exports": ("full personal values in pages and exports", 0),
    "plaintext_personal_values_in_dump_and_logs": ("plaintext personal values in dump and logs", 0),
    "audit_tampering_detected": ("tampered audit rows detected", 0),
    "guessable_passwords_accepted": ("guessable passwords accepted", 0),
}

OF = re.compile(r"^\s*([\d,]+)\s+of\s+([\d,]+)\s*$")


def on_target(name: str, payload: dict[str, Any]) -> tuple[bool, str]:
    if "ok" in payload:
        return bool(payload["ok"]), "" if payload["ok"] else "recorded as off target"
    value = payload.get("value")
    text = str(value).strip()
    minimum = EXPECTED.get(name, ("", 0))[1]
    if match := OF.match(text):
        got, total = (int(g.replace(",", "")) for g in match.groups())
        if got != total:
            return False, f"{total - got} of {total} missed"
        if total < minimum:
            return False, f"only {total} tried, fewer than {minimum:,}"
        return True, ""
    if text.endswith("%"):
        return (text == "100%"), "" if text == "100%" else "not 100%"
    if re.fullmatch(r"\d+", text):
        return (int(text) == 0), "" if int(text) == 0 else "not 0"
    return (text == str(payload.get("target", "")).strip()), "value differs from target"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allow-missing", action="store_true", help="missing figures warn only")
    parser.add_argument("--dir", type=Path, default=FIGURES_DIR)
    args = parser.parse_args(argv)

    recorded: dict[str, dict[str, Any]] = {}
    if args.dir.is_dir():
        for path in sorted(args.dir.glob("*.json")):
            payload = json.loads(path.read_text(encoding="utf-8"))
            recorded[str(payload.get("name", path.stem))] = payload

    rows: list[tuple[str, str, str, str]] = []
    failures: list[str] = []
    for name in [*EXPECTED, *sorted(set(recorded) - set(EXPECTED))]:
        payload = recorded.get(name)
        if payload is None:
            rows.append((name, "(missing)", "", "MISSING"))
            if not args.allow_missing:
                failures.append(f"{name}: not recorded by any test")
            continue
        ok, why = on_target(name, payload)
        status = "ok" if ok else f"OFF TARGET ({why})"
        rows.append((name, str(payload.get("value")), str(payload.get("target", "")), status))
        if not ok:
            failures.append(
                f"{name}: {payload.get('value')} against target {payload.get('target')}"
            )

    widths = [
        max(len(r[i]) for r in [("figure", "value", "target", "status"), *rows]) for i in range(4)
    ]
    line = "  ".join("{:<" + str(w) + "}" for w in widths)
    print("=== headline security figures (docs/security.md) ===")
    print(line.format("figure", "value", "target", "status"))
    for row in rows:
        print(line.format(*row))
    for name, payload in recorded.items():
        extra = {k: v for k, v in payload.items() if k not in {"name", "value", "target"} and v}
        if extra:
            print(f"  {name}: {json.dumps(extra, ensure_ascii=False, sort_keys=True)}")
    if failures:
        print("security figures failed:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
