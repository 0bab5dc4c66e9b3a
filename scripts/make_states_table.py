"""Generate data/reference/states.csv from the dr5hn country file and the hand-kept overrides.

Source: /work/shared/reference/countries-wikidata-dr5hn.json, an unmodified copy of
dr5hn/countries-states-cities-database `json/countries.json` ("Countries States Cities Database,
https://github.com/dr5hn/countries-states-cities-database, ODbL v1.0"). Its README says to drop
56 territories to keep the 194 sovereign states; that list is EXCLUDED below.

From each remaining record the script takes iso2, iso3, qid (`wikiDataId`), name_en (`name`),
name_pl (`translations.pl`) and adjectives_en (`nationality`, split on "," and " or "). Then it
applies data/reference/states-overrides.yaml field by field (common names, Polish genitives,
aliases, adjectives, and the two QID corrections) and writes the CSV sorted by iso2.

    .venv/bin/python scripts/make_states_table.py            # rewrite states.csv
    .venv/bin/python scripts/make_states_table.py --check    # exit 1 if states.csv is stale
    .venv/bin/python scripts/make_states_table.py --compare-pycountry   # review aid, see below

`--compare-pycountry` lists the states whose Polish name differs from pycountry's Polish
ISO 3166-1 catalogue (LGPL-2.1; `pip install pycountry`). It only prints; pycountry is never
needed to build the table, and the project does not depend on it.

Only the standard library and PyYAML are used.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "reference" / "countries-wikidata-dr5hn.json"
DEFAULT_OVERRIDES = REPO / "data" / "reference" / "states-overrides.yaml"
DEFAULT_OUT = REPO / "data" / "reference" / "states.csv"

# The 56 non-sovereign records, as listed in /work/shared/reference/README.md. Palestine (PS:
# dr5hn's item is the occupied territory, not the State of Palestine), Kosovo (XK) and Taiwan (TW)
# are among them and stay out.
# (Kept as the README writes it, so the two can be compared by eye.)
EXCLUDED_AS_LISTED = (
    "AI AQ AS AW AX BL BM BQ BV CC CK CW CX EH FK FO GF GG GI GL GP GS GU HK HM IM IO JE KY MF MO "
    "MP MQ MS NC NF NU PF PM PN PR PS RE SH SJ SX TC TF TK TW UM VG VI WF XK YT"
)
EXCLUDED = frozenset(EXCLUDED_AS_LISTED.split())
EXPECTED_STATES = 194

COLUMNS = (
    "iso2",
    "iso3",
    "qid",
    "name_en",
    "name_pl",
    "name_pl_genitive",
    "aliases_en",
    "aliases_pl",
    "adjectives_en",
    "adjectives_pl",
)
LIST_COLUMNS = frozenset({"aliases_en", "aliases_pl", "adjectives_en", "adjectives_pl"})
REQUIRED = ("iso2", "iso3", "name_en", "name_pl", "name_pl_genitive")
# Keys an override may carry besides the columns: the justification of a QID override.
NOTE_KEYS = frozenset({"qid_source"})
SEPARATOR = "|"


class TableError(Exception):
    """The source or the overrides cannot produce a valid table; the message says what to fix."""


def split_nationality(value: str | None) -> list[str]:
    """'Antiguan or Barbudan' -> ['Antiguan', 'Barbudan']; 'British, UK' -> ['British', 'UK']."""
    parts = re.split(r",| or ", value or "")
    return [p.strip() for p in parts if p.strip()]


def base_rows(records: list[dict]) -> dict[str, dict]:
    """The sovereign states of the dr5hn records, with the fields taken as they are."""
    rows = {}
    for rec in records:
        iso2 = rec["iso2"]
        if iso2 in EXCLUDED:
            continue
        rows[iso2] = {
            "iso2": iso2,
            "iso3": rec["iso3"],
            "qid": rec.get("wikiDataId") or "",
            "name_en": rec["name"].strip(),
            "name_pl": (rec.get("translations") or {}).get("pl", "").strip(),
            "name_pl_genitive": "",
            "aliases_en": [],
            "aliases_pl": [],
            "adjectives_en": split_nationality(rec.get("nationality")),
            "adjectives_pl": [],
        }
    if len(rows) != EXPECTED_STATES:
        raise TableError(
            f"expected {EXPECTED_STATES} sovereign states, the source gives {len(rows)}"
        )
    return rows


def apply_overrides(rows: dict[str, dict], overrides: dict) -> None:
    for iso2, fields in overrides.items():
        if not isinstance(iso2, str) or iso2 not in rows:
            raise TableError(
                f"overrides: {iso2!r} is not a sovereign state of the source "
                "(quote codes YAML reads as booleans, like 'NO')"
            )
        for name, value in (fields or {}).items():
            if name in NOTE_KEYS:
                continue
            if name not in COLUMNS or name == "iso2":
                raise TableError(f"overrides: {iso2}: unknown or fixed field {name!r}")
            if name == "qid" and not fields.get("qid_source"):
                raise TableError(f"overrides: {iso2}: a qid override needs a qid_source")
            if name in LIST_COLUMNS:
                if not isinstance(value, list):
                    raise TableError(f"overrides: {iso2}.{name} must be a YAML list")
                value = [str(v).strip() for v in value if str(v).strip()]
            else:
                value = "" if value is None else str(value).strip()
            rows[iso2][name] = value


def validate(rows: dict[str, dict]) -> None:
    problems = []
    for iso2, row in rows.items():
        problems += [f"{iso2}: {c} is empty" for c in REQUIRED if not row[c]]
        if row["qid"] and not re.fullmatch(r"Q[0-9]+", row["qid"]):
            problems.append(f"{iso2}: qid {row['qid']!r} is not a QID")
        for column in LIST_COLUMNS:
            problems += [
                f"{iso2}: {column} value {v!r} contains '|'" for v in row[column] if "|" in v
            ]
    if problems:
        raise TableError("\n".join(problems))


def build(source: Path, overrides_path: Path) -> str:
    """The CSV text of the table."""
    records = json.loads(source.read_text(encoding="utf-8"))
    rows = base_rows(records)
    apply_overrides(rows, yaml.safe_load(overrides_path.read_text(encoding="utf-8")) or {})
    validate(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for iso2 in sorted(rows):
        row = rows[iso2]
        writer.writerow([SEPARATOR.join(row[c]) if c in LIST_COLUMNS else row[c] for c in COLUMNS])
    return out.getvalue()


def compare_pycountry(table: str) -> None:
    import gettext

    import pycountry  # review aid only: pip install pycountry

    polish = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["pl"])
    for row in csv.DictReader(io.StringIO(table)):
        country = pycountry.countries.get(alpha_2=row["iso2"])
        names = {polish.gettext(country.name)}
        if getattr(country, "common_name", None):
            names.add(polish.gettext(country.common_name))
        if row["name_pl"] not in names:
            print(f"{row['iso2']}: table {row['name_pl']!r}, pycountry {' / '.join(sorted(names))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="dr5hn countries.json")
    parser.add_argument("--overrides", type=Path, default=DEFAULT_OVERRIDES)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if --out is not up to date")
    parser.add_argument("--compare-pycountry", action="store_true", help="print name differences")
    args = parser.parse_args(argv)
    try:
        table = build(args.source, args.overrides)
    except (OSError, TableError, KeyError, ValueError, yaml.YAMLError) as exc:
        print(f"make_states_table: {exc}", file=sys.stderr)
        return 2
    if args.compare_pycountry:
        compare_pycountry(table)
        return 0
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != table:
            print(f"{args.out} is stale: run scripts/make_states_table.py", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(table, encoding="utf-8")
    print(f"wrote {args.out} ({table.count(chr(10)) - 1} states)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
