"""Curation files correct one article's extraction; what they change is marked curated, and a
correction that does not fit the article is refused naming the file and the entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.curate import apply_curation
from kg.errors import InputError
from kg.extract import extract
from kg.map import parse_trig, render_article
from kg.read import read_article
from kg.reference import load_reference

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "data" / "articles" / "003_5b9274677ef01036.txt"
REF = load_reference()
CURATED = "https://w3id.org/dkg/ontology#curated"


def curate(tmp_path: Path, text: str):
    path = tmp_path / "003_5b9274677ef01036.yaml"
    path.write_text(text, encoding="utf-8")
    article = read_article(ARTICLE)
    return apply_curation(extract(article, REF), article, path, REF), path


def test_removing_a_false_statement_and_adding_a_meeting_show_in_the_graph(tmp_path):
    record, _ = curate(
        tmp_path,
        """
statements:
  remove: [{quote_contains: "the bloc members were planning"}]
meetings:
  add: [{participants: [radoslaw-sikorski, dmitry-peskov], place: moscow, start: 2024-04-04}]
""",
    )
    assert not any("bloc members were planning" in s.quote for s in record.statements)
    quads = parse_trig(render_article(record, REF), "curated")
    curated = {q.subject.value for q in quads if q.predicate.value == CURATED}
    assert "https://w3id.org/dkg/id/article/003_5b9274677ef01036" in curated
    assert any(iri.startswith("https://w3id.org/dkg/id/meeting/") for iri in curated)


def test_fixing_a_speaker_marks_the_statement_curated(tmp_path):
    record, _ = curate(
        tmp_path,
        """
statements:
  fix: [{match: {quote_contains: "We will watch them carefully"}, set: {speaker: dmitry-peskov}}]
""",
    )
    fixed = [s for s in record.statements if "watch them carefully" in s.quote]
    assert [(s.speaker, s.curated) for s in fixed] == [("dmitry-peskov", True)]


def test_an_added_official_unknown_to_the_reference_data_needs_a_label(tmp_path):
    record, _ = curate(
        tmp_path,
        """
entities:
  add: [{type: Official, label: Jan Kowalski, post_kind: defence-minister, state: PL}]
""",
    )
    added = record.entity("Official", "jan-kowalski")
    assert added is not None and (added.qid, added.linked_by) == (None, "curation")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "statements:\n  add: [{speaker: radoslaw-sikorski, quote: 'words not in the text'}]",
            "statements.add[1]: the quote is not in the article's text",
        ),
        ("entities:\n  add: [{type: State, key: XX}]", "entities.add[1]: no state 'XX'"),
        (
            "entities:\n  remove: [{type: Official, key: andrzej-duda}]",
            "entities.remove[1]: no Official 'andrzej-duda' in this article's extraction",
        ),
        (
            "meetings:\n  fix: [{match: {participants: [andrzej-duda]}, set: {start: 2024-01-01}}]",
            "meetings.fix[1]: no meeting with participants ['andrzej-duda']",
        ),
        (
            "meetings:\n  add: [{participants: [radoslaw-sikorski], start: 2024-13-01}]",
            "not valid YAML: month must be in 1..12",
        ),
        (
            "meetings:\n  add: [{participants: [radoslaw-sikorski], start: '2024-02-30'}]",
            "meetings.add[1]: '2024-02-30' is not a date",
        ),
        ("statments:\n  add: []", "unknown key(s) ['statments']"),
        ("article: 000_other\n", "does not match the file name"),
        ("meetings: [oops", "not valid YAML"),
    ],
)
def test_a_correction_that_does_not_fit_is_refused_naming_file_and_entry(tmp_path, text, message):
    with pytest.raises(InputError) as info:
        curate(tmp_path, text)
    assert message in str(info.value)
    assert "003_5b9274677ef01036.yaml" in str(info.value)


def test_kg_build_applies_curation_files_and_rebuilds_when_one_changes(tmp_path, capsys):
    import pyoxigraph as ox

    from kg.cli import main

    curation = tmp_path / "curation"
    curation.mkdir()
    out = tmp_path / "out"
    args = ["build", "--articles", str(ARTICLE.parent), "--out", str(out)]
    args += ["--curation", str(curation)]
    assert main(args) == 0

    def curated_subjects() -> set[str]:
        store = ox.Store.read_only(str(out / "store"))
        return {q.subject.value for q in store.quads_for_pattern(None, ox.NamedNode(CURATED), None)}

    assert curated_subjects() == set()
    (curation / "003_5b9274677ef01036.yaml").write_text(
        "statements:\n  remove: [{quote_contains: 'the bloc members were planning'}]\n",
        encoding="utf-8",
    )
    assert main(args) == 0
    assert curated_subjects() == {"https://w3id.org/dkg/id/article/003_5b9274677ef01036"}
    (curation / "003_5b9274677ef01036.yaml").unlink()
    assert main(args) == 0
    assert curated_subjects() == set()
