"""The statistics graph (kg.statistics): what one article adds to the counts and the calendar,
how builds and rebuilds keep them, that the whole-corpus saved queries reading it answer exactly
what counting over the article graphs answers (tests/fixtures/statistics/counted/), and that the
listings paging by the calendar list what paging by the articles' own dates (or every
meeting's start date) lists (tests/fixtures/statistics/paged/)."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pyoxigraph as ox
import pytest
from test_build_incremental import dump_in_order
from test_listing_pages import pages, pages_after

from kg import statistics
from kg.batch.cache import Cache, Entry, Manifest
from kg.errors import KgError
from kg.pipeline import _Build, build
from kg.query import load_saved_queries
from kg.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference"
COUNTED = Path(__file__).parent / "fixtures" / "statistics" / "counted"
AGGREGATES = sorted(p.stem for p in COUNTED.glob("*.rq"))
SAVED = load_saved_queries(ROOT / "queries")
FROM_ARTICLES = load_saved_queries(Path(__file__).parent / "fixtures" / "statistics" / "paged")
A = "https://w3id.org/dkg/id/article/a1"
PL, DE, UA = (f"https://w3id.org/dkg/id/state/{c}" for c in ("PL", "DE", "UA"))
WARSAW = "https://w3id.org/dkg/id/place/warsaw"
M1, M2 = "https://w3id.org/dkg/id/meeting/m1", "https://w3id.org/dkg/id/meeting/m2"
X, Y = "https://w3id.org/dkg/id/official/x", "https://w3id.org/dkg/id/official/y"
ON = "https://w3id.org/dkg/ontology#participantOn"
MEETING_START_DAY = "https://w3id.org/dkg/ontology#meetingStartDay"

ONE_ARTICLE = f"""
@prefix dkg: <https://w3id.org/dkg/ontology#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{A}> {{
  <{A}> a dkg:Article ; dcterms:language "en" ;
    dkg:mentions <{PL}>, <{DE}>, <{UA}>, <https://w3id.org/dkg/id/official/x> .
  <{UA}> a dkg:State .
  <https://w3id.org/dkg/id/meeting/m1> a dkg:Meeting ;
    dkg:location <https://w3id.org/dkg/id/place/warsaw> ; dkg:startDate "2024-05-01"^^xsd:date .
  <https://w3id.org/dkg/id/meeting/m2> a dkg:Meeting ;
    dkg:location <https://w3id.org/dkg/id/place/warsaw> .
  <https://w3id.org/dkg/id/statement/s> dkg:mentions <{DE}> .
}}
"""


# The same article with a listing date, two meetings of official x (one with state UA) and a
# statement of official y.
DATED_ARTICLE = ONE_ARTICLE.replace(
    "<https://w3id.org/dkg/id/statement/s> dkg:mentions",
    f"""<{A}> dkg:listingDate "2024-05-02"^^xsd:date .
  <{M1}> dkg:participant <{X}> ; dkg:participantState <{UA}> .
  <{M2}> dkg:participant <{X}> .
  <https://w3id.org/dkg/id/statement/s> dkg:speaker <{Y}> ; dkg:mentions""",
)


def article_quads(text: str = ONE_ARTICLE) -> list[ox.Quad]:
    return list(ox.parse(text.encode(), format=ox.RdfFormat.TRIG))


def statistics_lines(out: Path) -> list[str]:
    store = ox.Store.read_only(str(out / "store"))
    graph = ox.NamedNode(statistics.GRAPH)
    return sorted(str(q) for q in store.quads_for_pattern(None, None, None, graph))


def rows(store: ox.Store, text: str) -> list[tuple]:
    result = store.query(text, use_default_graph_as_union=True)
    names = [v.value for v in result.variables]
    return sorted(tuple(str(s[n]) if s[n] is not None else "" for n in names) for s in result)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    synthesize(40, seed=5, out_dir=out)
    return out / "articles"


@pytest.fixture(scope="module")
def corpus_store(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> ox.Store:
    out = tmp_path_factory.mktemp("built")
    build(corpus, out, REFERENCE, workers=2)
    return ox.Store.read_only(str(out / "store"))


# -- one article ------------------------------------------------------------------------------
def test_an_article_counts_its_publisher_language_mentions_state_pairs_and_meetings():
    keys = statistics.contribution(A, article_quads(), frozenset({PL, DE}))
    assert sorted(keys) == sorted(
        [
            ("published", "", "en"),  # no publisher
            ("mentioned", PL),
            ("mentioned", DE),
            ("mentioned", UA),
            ("mentioned", "https://w3id.org/dkg/id/official/x"),
            # PL and DE are states of the reference graph, UA is typed in the article itself;
            # the official is no state
            ("paired", DE, PL),
            ("paired", DE, UA),
            ("paired", PL, UA),
            ("met", WARSAW, M1, "2024-05-01"),
            ("met", WARSAW, M2, ""),  # no date
            ("meetingday", "2024-05-01"),
        ]
    )  # fmt: skip


def test_an_article_adds_its_listing_day_once_for_each_participant_state_and_speaker():
    keys = statistics.contribution(A, article_quads(DATED_ARTICLE), frozenset({PL, DE}))
    assert sorted(k for k in keys if k[0] == "day") == [
        ("day", "participant", X, "2024-05-02"),  # two meetings, one day
        ("day", "participantState", UA, "2024-05-02"),
        ("day", "speaker", Y, "2024-05-02"),
    ]
    undated = DATED_ARTICLE.replace(f'<{A}> dkg:listingDate "2024-05-02"^^xsd:date .', "")
    assert not [
        k for k in statistics.contribution(A, article_quads(undated), frozenset()) if k[0] == "day"
    ]


def test_the_calendar_holds_a_day_while_an_article_of_that_day_still_names_the_entity():
    dated = statistics.contribution(A, article_quads(DATED_ARTICLE), frozenset())
    later = statistics.contribution(
        A, article_quads(DATED_ARTICLE.replace("2024-05-02", "2024-06-30")), frozenset()
    )
    tally = statistics.Tally()
    tally.add(dated)
    tally.add(dated)  # a second article of the same day
    tally.add(later)
    calendar = {
        (q.subject.value, q.predicate.value, q.object.value)
        for q in statistics.quads(tally)
        if q.predicate.value.endswith("On")
    }
    assert (X, ON, "2024-05-02") in calendar and (X, ON, "2024-06-30") in calendar
    assert len(calendar) == 6  # three entities, two days each: one triple a day however many
    tally.subtract(dated)
    assert (X, ON, "2024-05-02") in {
        (q.subject.value, q.predicate.value, q.object.value) for q in statistics.quads(tally)
    }
    tally.subtract(dated)
    remaining = {
        (q.subject.value, q.object.value)
        for q in statistics.quads(tally)
        if q.predicate.value == ON
    }
    assert remaining == {(X, "2024-06-30")}


def test_a_statements_mentions_and_a_graph_not_typed_as_article_count_no_article():
    untyped = ONE_ARTICLE.replace(f"<{A}> a dkg:Article ;", f"<{A}>")
    keys = statistics.contribution(A, article_quads(untyped), frozenset())
    assert not [k for k in keys if k[0] == "published"]
    assert [k for k in keys if k[0] == "mentioned"].count(("mentioned", DE)) == 1


def test_a_tally_less_every_contribution_it_was_given_is_empty_and_writes_no_observation():
    keys = statistics.contribution(A, article_quads(), frozenset({PL, DE}))
    tally = statistics.Tally()
    tally.add(keys)
    tally.add(keys)
    assert statistics.Tally.from_json(orjson.loads(orjson.dumps(tally.to_json()))) == tally
    tally.subtract(keys)
    tally.subtract(keys)
    assert tally.to_json() == [] and tally == statistics.Tally()
    observations = [q for q in statistics.quads(tally) if q.object.value.endswith("#Observation")]
    assert observations == []


def test_the_graph_writes_one_observation_per_count_with_its_dimensions_and_measures():
    tally = statistics.Tally()
    tally.add(statistics.contribution(A, article_quads(), frozenset({PL, DE})))
    store = ox.Store()
    store.extend(statistics.quads(tally))
    met = rows(
        store,
        """PREFIX dkg: <https://w3id.org/dkg/ontology#> PREFIX qb: <http://purl.org/linked-data/cube#>
        SELECT ?place ?n ?first ?last WHERE {
          ?o qb:dataSet <https://w3id.org/dkg/id/statistics/met> ; dkg:meetingPlace ?place ;
             dkg:meetingCount ?n ; dkg:firstDate ?first ; dkg:lastDate ?last }""",
    )
    assert met == [
        (
            "<https://w3id.org/dkg/id/place/warsaw>",
            '"2"^^<http://www.w3.org/2001/XMLSchema#integer>',
            '"2024-05-01"^^<http://www.w3.org/2001/XMLSchema#date>',
            '"2024-05-01"^^<http://www.w3.org/2001/XMLSchema#date>',
        )
    ]
    structure = rows(
        store,
        """PREFIX qb: <http://purl.org/linked-data/cube#>
        SELECT ?set ?property WHERE { ?set qb:structure/qb:component/qb:dimension ?property }""",
    )
    assert len(structure) == 6  # publisher, language; entity; two states; place


# -- builds -----------------------------------------------------------------------------------
def test_a_builds_statistics_are_the_tally_of_its_own_article_graphs(seed_out):
    dump = list(ox.parse(path=str(seed_out / "dataset.nq"), format=ox.RdfFormat.N_QUADS))
    graph = ox.NamedNode(statistics.GRAPH)
    written = sorted(str(q) for q in dump if q.graph_name == graph)
    articles = [q for q in dump if q.graph_name != graph]
    assert written == sorted(str(q) for q in statistics.quads(statistics.tally_of_quads(articles)))
    assert statistics_lines(seed_out) == written


def test_rebuilds_after_changes_removals_and_additions_keep_a_fresh_builds_statistics(
    articles, tmp_path
):
    out = tmp_path / "out"
    build(articles, out, REFERENCE, workers=2)
    files = sorted(articles.glob("*.txt"))
    files[0].unlink()
    files[3].write_text(files[4].read_text(encoding="utf-8"), encoding="utf-8")  # other mentions
    shutil.copy(files[7], articles / "zz-added.txt")
    result = build(articles, out, REFERENCE, workers=2)
    assert (result.removed, result.processed, result.store_update) == (1, 2, "incremental")
    files[9].unlink()  # and again, from the tally the rebuild wrote
    build(articles, out, REFERENCE, workers=2)
    scratch = tmp_path / "scratch"
    build(articles, scratch, REFERENCE, workers=2)
    assert statistics_lines(out) == statistics_lines(scratch)
    assert dump_in_order(out) == dump_in_order(scratch)
    published = rows(
        ox.Store.read_only(str(out / "store")),
        (ROOT / "queries" / "articles-by-publisher.rq").read_text(encoding="utf-8"),
    )
    assert sum(int(r[2].split('"')[1]) for r in published) == 39  # 40 - 2 + 1


def test_a_changed_articles_old_cache_entry_gone_the_tally_is_summed_again(articles, tmp_path):
    out = tmp_path / "out"
    build(articles, out, REFERENCE, workers=2)
    manifest = orjson.loads((out / "current" / "manifest.json").read_bytes())
    changed = sorted(articles.glob("*.txt"))[2]
    Cache(out).drop([manifest["articles"][changed.stem][3]])
    changed.write_text(sorted(articles.glob("*.txt"))[5].read_text(encoding="utf-8"))
    build(articles, out, REFERENCE, workers=2)
    build(articles, tmp_path / "scratch", REFERENCE, workers=2)
    assert statistics_lines(out) == statistics_lines(tmp_path / "scratch")


def test_a_current_cache_entry_gone_while_summing_stops_the_build_naming_it(tmp_path):
    manifest = Manifest(articles={"a1": Entry("a1.txt", 1, 1, "0123456789abcdef", 1)})
    summing = _Build(tmp_path, tmp_path / "out", REFERENCE, 1, False)
    with pytest.raises(KgError, match=r"0123456789abcdef\.nq: the cache entry of a1 is gone"):
        summing._tally_from_cache(manifest)


# -- the saved queries ------------------------------------------------------------------------
@pytest.mark.parametrize("name", AGGREGATES)
def test_the_saved_aggregate_answers_what_counting_over_every_article_answers(name, corpus_store):
    saved = (ROOT / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    counted = (COUNTED / f"{name}.rq").read_text(encoding="utf-8")
    expected = rows(corpus_store, counted)
    assert expected, f"{name}: the synthetic corpus gives no rows to compare"
    assert rows(corpus_store, saved) == expected


# -- the listings paged by the calendar -------------------------------------------------------
def entities(store: ox.Store, kind: str) -> list[str]:
    text = f"PREFIX dkg: <https://w3id.org/dkg/ontology#> SELECT ?x WHERE {{ ?x a dkg:{kind} }}"
    return sorted(s["x"].value for s in store.query(text, use_default_graph_as_union=True))


@pytest.mark.parametrize(("name", "param", "kind"), [
    ("official-timeline", "official", "Official"),
    ("official-statements", "official", "Official"),
    ("meetings-with-state", "state", "State"),
])  # fmt: skip
def test_a_listing_paged_by_the_calendar_lists_what_paging_by_every_articles_date_lists(
    name, param, kind, corpus_store
):
    compared = 0
    for entity in entities(corpus_store, kind):
        by_articles = pages(corpus_store, FROM_ARTICLES[name], {param: entity})
        assert pages(corpus_store, SAVED[name], {param: entity}) == by_articles, entity
        compared += len(by_articles) > 1
    assert compared >= 2, f"{name}: fewer than two entities with more than one page"


@pytest.mark.parametrize(("start", "end"), [
    ("2016-01-01", "2024-12-31"),  # every meeting
    ("2019-03-01", "2021-06-30"),  # a range inside: meetings still going on at its start
    ("2030-01-01", "2030-12-31"),  # no meeting
])  # fmt: skip
def test_meetings_in_range_paged_by_the_calendar_lists_what_paging_by_every_meeting_lists(
    start, end, corpus_store
):
    params = {"from": start, "to": end}
    by_meetings = pages_after(corpus_store, FROM_ARTICLES["meetings-in-range"], params)
    assert pages_after(corpus_store, SAVED["meetings-in-range"], params) == by_meetings
    if start == "2016-01-01":
        assert len(by_meetings) > 2, "the synthetic corpus has too few meeting days"


def test_the_calendar_holds_the_start_days_of_an_articles_meetings_while_one_starts_then():
    keys = statistics.contribution(A, article_quads(), frozenset())
    assert [k for k in keys if k[0] == "meetingday"] == [("meetingday", "2024-05-01")]
    untyped = ONE_ARTICLE.replace(f"<{M1}> a dkg:Meeting ;", f"<{M1}>")
    assert not [
        k
        for k in statistics.contribution(A, article_quads(untyped), frozenset())
        if k[0] == "meetingday"
    ]  # a start date of something the article does not call a meeting
    tally = statistics.Tally()
    tally.add(keys)
    tally.add(keys)  # a second article with a meeting that day
    days = {
        q.object.value
        for q in statistics.quads(tally)
        if q.predicate.value == MEETING_START_DAY and q.subject.value == statistics.GRAPH
    }
    assert days == {"2024-05-01"}
    tally.subtract(keys)
    assert MEETING_START_DAY in {q.predicate.value for q in statistics.quads(tally)}
    tally.subtract(keys)
    assert MEETING_START_DAY not in {q.predicate.value for q in statistics.quads(tally)}
