"""The listings' keyset paging (queries with a `before` parameter): a page holds the rows of
7 listing days, newest first, the next page starts before the oldest of them, and the undated
articles end the listing. Paged this way, a listing loses and repeats no row of the listing
read in one piece (the same query with every day on one page), on a synthetic build with
more than 7 listing days and undated articles."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.errors import UsageError
from kg.pipeline import build
from kg.query import SavedQuery, load_saved_queries, query_with_values, run_saved_query
from kg.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
SAVED = load_saved_queries(ROOT / "queries")
PAGED = sorted(name for name, saved in SAVED.items() if "before" in saved.param_names)
UNDATED = "https://w3id.org/dkg/ontology#UndatedArticle"
PAGE_DAYS = 7
XSD_DATE = "http://www.w3.org/2001/XMLSchema#date"
PREFIXES = "PREFIX dkg: <https://w3id.org/dkg/ontology#>\n"
_DAYS = PREFIXES + "SELECT DISTINCT ?d WHERE { GRAPH ?a { ?a dkg:listingDate ?d } }"
_UNDATED = PREFIXES + "SELECT ?a WHERE { GRAPH ?a { ?a a dkg:UndatedArticle } }"
# The busiest entity of each kind a listing may be narrowed to, so that it has several pages.
BUSIEST = {
    "official": "?x a dkg:Official .",
    "state": "?x a dkg:State .",
    "alliance": "?x a dkg:Alliance .",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ox.Store:
    corpus = tmp_path_factory.mktemp("corpus")
    synthesize(80, seed=11, out_dir=corpus)
    out = tmp_path_factory.mktemp("built")
    build(corpus / "articles", out, ROOT / "data" / "reference", workers=2)
    built = ox.Store.read_only(str(out / "store"))
    days = {str(s["d"].value) for s in built.query(_DAYS, use_default_graph_as_union=True)}
    undated = list(built.query(_UNDATED, use_default_graph_as_union=True))
    # Without these the paging below would never turn a page nor reach the undated tail.
    assert len(days) > 2 * PAGE_DAYS and undated, "the synthetic corpus is too small"
    return built


def busiest(store: ox.Store, kind: str) -> str:
    text = PREFIXES + (
        "SELECT ?x (COUNT(?a) AS ?n) WHERE { "
        + BUSIEST[kind]
        + " GRAPH ?a { ?a dkg:mentions ?x } } GROUP BY ?x ORDER BY DESC(?n) ?x LIMIT 1"
    )
    (solution,) = list(store.query(text, use_default_graph_as_union=True))
    return solution["x"].value


def narrowing(store: ox.Store, name: str) -> dict[str, str]:
    saved = SAVED[name]
    return {p.name: busiest(store, p.name) for p in saved.params if p.required}


def whole_listing(store: ox.Store, name: str, params: dict[str, str]) -> list[tuple]:
    """The listing with every day on one page: its day sub-select without `LIMIT 7`."""
    saved = SAVED[name]
    assert saved.text.count(f"LIMIT {PAGE_DAYS}\n") == 1, f"{name}: one day sub-select"
    whole = dataclasses.replace(saved, text=saved.text.replace(f"LIMIT {PAGE_DAYS}\n", "\n"))
    _, rows = run_saved_query(store, whole, {**params, "limit": "10000"})
    return rows


def pages(store: ox.Store, saved: SavedQuery, params: dict[str, str]) -> list[list[tuple]]:
    """Every page of the listing, each asked for with the previous page's oldest date."""
    name = saved.name
    found: list[list[tuple]] = []
    before: str | None = None
    while True:
        paged = {**params, "limit": "10000", **({"before": before} if before else {})}
        variables, rows = run_saved_query(store, saved, paged)
        assert variables[0] == "listed", f"{name}: `listed` opens the row"
        found.append(rows)
        dated = [row[0].value for row in rows if isinstance(row[0], ox.Literal)]
        if not dated or len(set(dated)) < PAGE_DAYS:
            return found
        before = min(dated)
        assert len(found) < 100, f"{name}: the pages do not end"


def pages_after(store: ox.Store, saved: SavedQuery, params: dict[str, str]) -> list[list[tuple]]:
    """Every page of meetings-in-range, each asked for after the previous page's latest day."""
    found: list[list[tuple]] = []
    after: str | None = None
    while True:
        paged = {**params, "limit": "10000", **({"after": after} if after else {})}
        _, rows = run_saved_query(store, saved, paged)
        found.append(rows)
        days = sorted({row[0].value for row in rows})
        if len(days) < PAGE_DAYS:
            return found
        after = days[-1]
        assert len(found) < 100, "the pages do not end"


@pytest.mark.parametrize("name", PAGED)
def test_paged_listing_loses_and_repeats_no_row_of_the_whole_listing(store, name):
    params = narrowing(store, name)
    whole = whole_listing(store, name, params)
    found = pages(store, SAVED[name], params)
    paged = [row for page in found for row in page]
    assert len(paged) == len(set(paged)), f"{name}: a row is on two pages"
    assert sorted(map(str, paged)) == sorted(map(str, whole))
    assert len(found) > 1, f"{name}: the listing has one page only"


@pytest.mark.parametrize("name", PAGED)
def test_a_page_holds_seven_days_newest_first_and_the_undated_articles_come_last(store, name):
    params = narrowing(store, name)
    found = pages(store, SAVED[name], params)
    previous_oldest: dt.date | None = None
    for number, page in enumerate(found):
        keys = [row[0] for row in page]
        dated = [k.value for k in keys if isinstance(k, ox.Literal)]
        assert len(set(dated)) <= PAGE_DAYS
        assert dated == sorted(dated, reverse=True), f"{name}: page {number} is not newest first"
        if previous_oldest is not None:
            assert all(dt.date.fromisoformat(d) < previous_oldest for d in dated)
        if dated:
            previous_oldest = dt.date.fromisoformat(min(dated))
        undated = [k for k in keys if isinstance(k, ox.NamedNode)]
        assert all(k.value == UNDATED for k in undated)
        if undated:
            assert number == len(found) - 1, f"{name}: undated rows before the last page"
            assert keys[-len(undated) :] == undated, f"{name}: undated rows before dated ones"


def test_a_parameter_is_bound_in_every_sub_select_that_names_it():
    saved = SAVED["who-met-whom"]
    text = query_with_values(
        saved,
        {
            "official": ox.NamedNode("http://www.wikidata.org/entity/Q58085"),
            "before": ox.Literal("2024-01-01", datatype=ox.NamedNode(XSD_DATE)),
        },
    )
    both = '(?official ?before) { (<http://www.wikidata.org/entity/Q58085> "2024-01-01"'
    official = "VALUES (?official) { (<http://www.wikidata.org/entity/Q58085>) }"
    # the query's own WHERE, the page's days and the candidate days get both; the official's
    # articles and the every-day branch (which names the official to switch itself off) get
    # the official; the scan of every article's date gets neither
    assert text.count(f"VALUES {both}") == 3
    assert text.count(official) == 2
    dates = text[text.index("SELECT ?article ?listed") :].split("}", 1)[0]
    assert "VALUES" not in dates


def test_before_must_be_a_date(store):
    with pytest.raises(UsageError, match="before"):
        run_saved_query(store, SAVED["direct-quotes-by-language"], {"before": "last week"})


def test_meetings_in_range_paged_by_after_lose_and_repeat_no_meeting(store):
    params = {"from": "2016-01-01", "to": "2024-12-31"}
    everything = whole_listing(store, "meetings-in-range", {**params, "limit": "10000"})
    found = pages_after(store, SAVED["meetings-in-range"], params)
    after: str | None = None
    for page in found:
        days = sorted({row[0].value for row in page})
        assert all(after is None or day > after for day in days), "a day at or before `after`"
        assert len(days) <= PAGE_DAYS
        after = days[-1] if days else after
    paged = [row for page in found for row in page]
    assert len(paged) == len(set(paged)), "a meeting is on two pages"
    assert sorted(map(str, paged)) == sorted(map(str, everything))
    assert len(found) > 1, "the range has one page only"
