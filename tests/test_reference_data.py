"""The curated reference tables under data/reference/, tested like code.

Each check names the file and the entry to fix. The tables and their rules are described in
data/reference/README.md. Checks against /work/shared/reference (the sources of every QID) are
skipped, with the reason, where that folder is not present.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import subprocess
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "data" / "reference"
SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_REF = SHARED / "reference"
VERIFIED = SHARED_REF / "verified-entities.yaml"
DR5HN = SHARED_REF / "countries-wikidata-dr5hn.json"
SHARED_README = SHARED_REF / "README.md"

STATE_COLUMNS = [
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
]
# The sovereign-state items the shared README names where dr5hn gives the constituent country.
README_STATE_QIDS = {"DK": "Q756617", "NL": "Q29999"}
QID = re.compile(r"^Q[0-9]+$")
ORG_KINDS = {"military-alliance", "intergovernmental-organisation", "legislature"}
REGENERATE = ".venv/bin/python scripts/make_states_table.py"

needs_shared = pytest.mark.skipif(
    not (VERIFIED.exists() and DR5HN.exists()),
    reason=f"{SHARED_REF} (verified-entities.yaml, dr5hn file) not found: QID sources unavailable",
)


# --- loading -------------------------------------------------------------------------------


def load_states() -> list[dict]:
    with (REF / "states.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == STATE_COLUMNS, (
            f"states.csv header is {reader.fieldnames}, expected {STATE_COLUMNS}: "
            f"regenerate with {REGENERATE}"
        )
        return list(reader)


def load_yaml(name: str) -> list[dict]:
    data = yaml.safe_load((REF / name).read_text(encoding="utf-8"))
    assert isinstance(data, list), f"{name}: the file must be a YAML list of entries"
    for index, item in enumerate(data, start=1):
        assert isinstance(item, dict), f"{name}: entry {index} is not a mapping: {item!r}"
    return data


def split(cell: str) -> list[str]:
    return [v.strip() for v in (cell or "").split("|") if v.strip()]


def slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name.replace("ł", "l").replace("Ł", "L"))
    ascii_name = ascii_name.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def parse_date(value: object, where: str) -> dt.date | None:
    if value is None:
        return None
    assert isinstance(value, str), (
        f"{where}: write the date {value!r} as a quoted ISO string ('2019-07-23')"
    )
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        pytest.fail(f"{where}: {value!r} is not an ISO date YYYY-MM-DD")


@pytest.fixture(scope="module")
def states() -> list[dict]:
    return load_states()


@pytest.fixture(scope="module")
def iso2s(states: list[dict]) -> set[str]:
    return {s["iso2"] for s in states}


@pytest.fixture(scope="module")
def orgs() -> list[dict]:
    return load_yaml("organisations.yaml")


@pytest.fixture(scope="module")
def posts() -> list[dict]:
    return load_yaml("posts.yaml")


@pytest.fixture(scope="module")
def post_kinds() -> list[dict]:
    return load_yaml("post-kinds.yaml")


@pytest.fixture(scope="module")
def officials() -> list[dict]:
    return load_yaml("officials.yaml")


@pytest.fixture(scope="module")
def places() -> list[dict]:
    return load_yaml("places.yaml")


@pytest.fixture(scope="module")
def verified() -> dict:
    return yaml.safe_load(VERIFIED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dr5hn() -> dict[str, str]:
    return {r["iso2"]: r["wikiDataId"] for r in json.loads(DR5HN.read_text(encoding="utf-8"))}


def all_qids(states, orgs, posts, officials, places) -> list[tuple[str, str]]:
    """(qid, where) for every non-empty QID cell of every table."""
    found = [(s["qid"], f"states.csv {s['iso2']}") for s in states if s["qid"]]
    for name, rows in (
        ("organisations.yaml", orgs),
        ("posts.yaml", posts),
        ("officials.yaml", officials),
        ("places.yaml", places),
    ):
        found += [(str(r["qid"]), f"{name} {r['key']}") for r in rows if r.get("qid")]
    return found


# --- shape of each table -------------------------------------------------------------------


REQUIRED = {
    "organisations.yaml": ("key", "kind", "name_en", "name_pl", "members"),
    "posts.yaml": ("key", "kind", "label_en", "label_pl"),
    "post-kinds.yaml": ("kind", "label_en", "label_pl", "cues_en", "cues_pl"),
    "officials.yaml": ("key", "name_en", "name_pl", "citizen_of", "posts"),
    "places.yaml": ("key", "name_en", "name_pl", "state"),
}
KEY_FIELD = {"post-kinds.yaml": "kind"}


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_yaml_table_parses_with_required_fields(name: str) -> None:
    for item in load_yaml(name):
        label = item.get(KEY_FIELD.get(name, "key"), item)
        missing = [f for f in REQUIRED[name] if item.get(f) in (None, "")]
        missing = [f for f in missing if not (f == "members" and item.get(f) == [])]
        assert not missing, f"{name}: {label}: fill in {missing}"


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_yaml_keys_unique(name: str) -> None:
    field = KEY_FIELD.get(name, "key")
    seen: dict[str, int] = defaultdict(int)
    for item in load_yaml(name):
        seen[item[field]] += 1
    assert not [k for k, n in seen.items() if n > 1], (
        f"{name}: {field} used more than once: {sorted(k for k, n in seen.items() if n > 1)}"
    )


def test_states_table_is_the_194_sovereign_states(states: list[dict]) -> None:
    codes = [s["iso2"] for s in states]
    assert codes == sorted(codes), f"states.csv must be sorted by iso2: {REGENERATE}"
    assert len(codes) == len(set(codes)), "states.csv: an iso2 appears twice"
    assert len(codes) == 194, f"states.csv has {len(codes)} rows, expected 194: {REGENERATE}"
    assert not {"PS", "XK", "TW"} & set(codes), "Palestine, Kosovo and Taiwan stay out"
    for s in states:
        assert re.fullmatch(r"[A-Z]{2}", s["iso2"]) and re.fullmatch(r"[A-Z]{3}", s["iso3"]), (
            f"states.csv {s['iso2']}: bad ISO code"
        )


def test_every_state_has_names(states: list[dict]) -> None:
    missing = [
        f"{s['iso2']}.{c}"
        for s in states
        for c in ("name_en", "name_pl", "name_pl_genitive")
        if not s[c].strip()
    ]
    assert not missing, (
        f"states without a name: {missing}; add them to data/reference/states-overrides.yaml "
        f"and run {REGENERATE}"
    )


def test_no_state_surface_form_belongs_to_two_entities(states, orgs) -> None:
    """A name, alias or adjective that two states (or a state and an organisation) share
    cannot be linked: leave it out of both (see states-overrides.yaml header)."""
    owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s in states:
        for lang in ("en", "pl"):
            forms = [
                s[f"name_{lang}"],
                *split(s[f"aliases_{lang}"]),
                *split(s[f"adjectives_{lang}"]),
            ]
            for form in forms:
                owners[(lang, form.casefold())].add(s["iso2"])
    for o in orgs:
        for lang in ("en", "pl"):
            for form in [o[f"name_{lang}"], *(o.get(f"aliases_{lang}") or [])]:
                owners[(lang, str(form).casefold())].add(o["key"])
    shared = {f"{lang}:{form}": sorted(who) for (lang, form), who in owners.items() if len(who) > 1}
    assert not shared, f"surface forms shared by two entities (remove from one or both): {shared}"


def test_organisations(orgs, iso2s) -> None:
    for o in orgs:
        assert o["kind"] in ORG_KINDS, f"organisations.yaml {o['key']}: kind must be in {ORG_KINDS}"
        if o["kind"] == "legislature":
            assert o.get("state") in iso2s, f"organisations.yaml {o['key']}: give the state: ISO2"
        for field in ("aliases_en", "aliases_pl", "weak_aliases_en", "weak_aliases_pl", "members"):
            value = o.get(field, [])
            assert isinstance(value, list), f"organisations.yaml {o['key']}.{field}: use a list"
        members = o["members"]
        assert len(members) == len(set(members)), f"organisations.yaml {o['key']}: member twice"
    sizes = {o["key"]: len(o["members"]) for o in orgs}
    assert (sizes.get("nato"), sizes.get("eu"), sizes.get("visegrad-group")) == (32, 27, 4), (
        f"organisations.yaml: NATO 32, EU 27, V4 4 members expected, found {sizes}"
    )


def test_posts_belong_to_one_state_or_organisation(posts, orgs, iso2s, post_kinds) -> None:
    org_keys = {o["key"] for o in orgs}
    kinds = {k["kind"] for k in post_kinds}
    for p in posts:
        where = f"posts.yaml {p['key']}"
        assert bool(p.get("state")) != bool(p.get("org")), f"{where}: give state: or org:, not both"
        if p.get("org"):
            assert p["org"] in org_keys, f"{where}: org {p['org']!r} is not in organisations.yaml"
        assert p["kind"] in kinds, f"{where}: kind {p['kind']!r} is not in post-kinds.yaml"
        owner = (p.get("state") or p.get("org")).lower()
        assert p["key"].startswith(owner + "-"), f"{where}: key should start with '{owner}-'"


def test_post_kinds_placeholders_only_in_labels(post_kinds) -> None:
    for k in post_kinds:
        for lang in ("en", "pl"):
            label = k[f"label_{lang}"]
            allowed = {"state"} if lang == "en" else {"state_genitive"}
            used = set(re.findall(r"{(\w+)}", label))
            assert used == allowed, f"post-kinds.yaml {k['kind']}.label_{lang}: use {allowed}"
        for field in ("cues_en", "cues_pl", "cues_en_us", "cues_pl_us"):
            cues = k.get(field) or []
            assert isinstance(cues, list), f"post-kinds.yaml {k['kind']}.{field}: use a list"
            bad = [c for c in cues if "{" in c or "}" in c]
            assert not bad, f"post-kinds.yaml {k['kind']}.{field}: no placeholders in cues: {bad}"
            dupes = {c for c in cues if cues.count(c) > 1}
            assert not dupes, f"post-kinds.yaml {k['kind']}.{field}: listed twice: {dupes}"


def test_official_keys_are_slugs_of_names(officials) -> None:
    for o in officials:
        assert o["key"] == slug(o["name_en"]), (
            f"officials.yaml: key {o['key']!r} should be {slug(o['name_en'])!r} (slug of name_en)"
        )


def test_official_posts_exist_and_dates_are_ordered(officials, posts) -> None:
    post_keys = {p["key"] for p in posts}
    for o in officials:
        assert o["posts"], f"officials.yaml {o['key']}: list at least one post"
        for index, tenure in enumerate(o["posts"], start=1):
            where = f"officials.yaml {o['key']} post {index}"
            assert tenure["post"] in post_keys, (
                f"{where}: post {tenure['post']!r} is not in posts.yaml; add it there first"
            )
            start = parse_date(tenure.get("start"), where + " start")
            end = parse_date(tenure.get("end"), where + " end")
            if start and end:
                assert start <= end, f"{where}: start {start} is after end {end}"


def test_place_keys_are_slugs(places) -> None:
    for p in places:
        assert p["key"] == slug(p["key"]), f"places.yaml: key {p['key']!r} is not a slug"


def test_every_state_reference_exists(states, orgs, posts, officials, places, iso2s) -> None:
    refs = [(o["citizen_of"], f"officials.yaml {o['key']} citizen_of") for o in officials]
    refs += [(p["state"], f"posts.yaml {p['key']} state") for p in posts if p.get("state")]
    refs += [(o["state"], f"organisations.yaml {o['key']} state") for o in orgs if o.get("state")]
    refs += [(m, f"organisations.yaml {o['key']} members") for o in orgs for m in o["members"]]
    refs += [(p["state"], f"places.yaml {p['key']} state") for p in places]
    unknown = [f"{where}: {code!r}" for code, where in refs if code not in iso2s]
    assert not unknown, (
        "ISO2 codes not in states.csv (quote 'NO': bare NO is YAML for false): "
        + "; ".join(unknown)
    )


def test_every_capital_is_a_place(states, places) -> None:
    with_place = {p["state"] for p in places}
    missing = sorted(s["iso2"] for s in states if s["iso2"] not in with_place)
    assert not missing, f"places.yaml: add the capital of {missing}"


# --- QIDs ----------------------------------------------------------------------------------


def test_qids_are_well_formed(states, orgs, posts, officials, places) -> None:
    bad = [
        f"{where}: {q!r}"
        for q, where in all_qids(states, orgs, posts, officials, places)
        if not QID.match(q)
    ]
    assert not bad, "QIDs must match ^Q[0-9]+$: " + "; ".join(bad)


def test_no_qid_appears_twice(states, orgs, posts, officials, places) -> None:
    seen: dict[str, list[str]] = defaultdict(list)
    for qid, where in all_qids(states, orgs, posts, officials, places):
        seen[qid].append(where)
    twice = {q: w for q, w in seen.items() if len(w) > 1}
    assert not twice, f"one QID on two entities (at most one can be right): {twice}"


@needs_shared
def test_every_qid_is_backed_by_shared_reference(
    states, orgs, posts, officials, places, verified, dr5hn
) -> None:
    """A QID may only be written where /work/shared/reference gives it for that entity."""
    readme = SHARED_README.read_text(encoding="utf-8")
    problems = []
    for s in states:
        expected = README_STATE_QIDS.get(s["iso2"], dr5hn.get(s["iso2"]))
        if s["qid"] != expected:
            problems.append(
                f"states.csv {s['iso2']}: qid {s['qid']!r}, the source gives {expected}"
            )
    for iso2, qid in README_STATE_QIDS.items():
        if qid not in readme:
            problems.append(f"{iso2}: {qid} is no longer named in {SHARED_README}")
    allowed = {
        "organisations.yaml": {o["qid"] for o in verified["organisations"]},
        "posts.yaml": {t["post_qid"] for p in verified["people"] for t in p["posts"]} - {None},
        "officials.yaml": {p["qid"] for p in verified["people"]},
        "places.yaml": {p["qid"] for p in verified["places"]},
    }
    for name, rows in (
        ("organisations.yaml", orgs),
        ("posts.yaml", posts),
        ("officials.yaml", officials),
        ("places.yaml", places),
    ):
        for r in rows:
            if r.get("qid") and r["qid"] not in allowed[name]:
                problems.append(
                    f"{name} {r['key']}: {r['qid']} is not in verified-entities.yaml; "
                    "leave the qid empty"
                )
    assert not problems, "\n".join(problems)


@needs_shared
def test_verified_people_and_their_posts_are_carried_over(officials, posts, verified) -> None:
    """Every person of verified-entities.yaml is in officials.yaml with the same QID, and each
    of their posts with a post_qid is there with the same dates."""
    by_name = {o["name_en"]: o for o in officials}
    post_qid = {p["key"]: p.get("qid") for p in posts}
    problems = []
    for person in verified["people"]:
        official = by_name.get(person["name"])
        if official is None:
            problems.append(f"officials.yaml: add {person['name']} ({person['qid']})")
            continue
        if official.get("qid") != person["qid"]:
            problems.append(f"officials.yaml {official['key']}: qid should be {person['qid']}")
        held = {(post_qid.get(t["post"]), t.get("start"), t.get("end")) for t in official["posts"]}
        for t in person["posts"]:
            if t["post_qid"] is None:
                continue
            start = t["start"].isoformat() if t["start"] else None
            end = t["end"].isoformat() if t["end"] else None
            if (t["post_qid"], start, end) not in held:
                problems.append(
                    f"officials.yaml {official['key']}: add {t['post']} ({t['post_qid']}) "
                    f"{start} .. {end}"
                )
    assert not problems, "\n".join(problems)


@needs_shared
def test_verified_places_and_organisations_are_carried_over(orgs, places, verified) -> None:
    org_qids = {o.get("qid") for o in orgs}
    place_qids = {p.get("qid") for p in places}
    missing = [o["name"] for o in verified["organisations"] if o["qid"] not in org_qids]
    missing += [p["name"] for p in verified["places"] if p["qid"] not in place_qids]
    assert not missing, f"add these verified entities (with their QIDs) to the tables: {missing}"


@needs_shared
def test_states_csv_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_states_table.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        f"states.csv differs from what the overrides give: {result.stderr.strip()}\n"
        f"Edit data/reference/states-overrides.yaml (not states.csv), then run {REGENERATE}"
    )
