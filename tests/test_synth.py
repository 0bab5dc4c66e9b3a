"""`kg synth`: a deterministic synthetic corpus whose gold annotations say what the text says."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from kg.cli import main
from kg.read import read_article
from kg.reference import load_reference
from kg.synth import synthesize

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    synthesize(200, seed=11, out_dir=out)
    return out


def texts(out: Path) -> dict[str, str]:
    return {p.stem: read_article(p).text for p in sorted((out / "articles").glob("*.txt"))}


def golds(out: Path) -> dict[str, dict]:
    return {
        p.stem: yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in sorted((out / "gold").glob("*.yaml"))
    }


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.*")}


def test_same_seed_writes_the_same_corpus_and_another_seed_another(tmp_path):
    synthesize(12, seed=3, out_dir=tmp_path / "a")
    synthesize(12, seed=3, out_dir=tmp_path / "b")
    synthesize(12, seed=4, out_dir=tmp_path / "c")
    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a") != files(tmp_path / "c")


def test_a_small_corpus_is_the_start_of_a_larger_one(tmp_path):
    synthesize(4, seed=3, out_dir=tmp_path / "small")
    synthesize(9, seed=3, out_dir=tmp_path / "large")
    small, large = files(tmp_path / "small"), files(tmp_path / "large")
    assert len(small) == 8 and all(large[name] == data for name, data in small.items())


def test_every_article_reads_with_front_matter_in_english_or_polish(corpus):
    languages = {read_article(p).language for p in (corpus / "articles").glob("*.txt")}
    assert languages == {"en", "pl"}
    assert len(list((corpus / "gold").glob("*.yaml"))) == 200


def test_gold_statements_are_exact_substrings_of_the_text(corpus):
    text_of = texts(corpus)
    statements = [(a, s) for a, g in golds(corpus).items() for s in g.get("statements", [])]
    assert {s["direct"] for _, s in statements} == {True, False}
    for article, s in statements:
        assert s["text"] in text_of[article], (article, s["text"])


def test_direct_quotes_use_straight_curly_and_polish_quotation_marks(corpus):
    joined = "\n".join(texts(corpus).values())
    for opening, closing in (('"', '"'), ("“", "”"), ("„", "”")):
        assert re.search(re.escape(opening) + r"\w[^\n]*?" + re.escape(closing), joined)


def test_polish_articles_inflect_names_and_resolve_weekdays_against_the_published_date(corpus):
    text_of, gold_of = texts(corpus), golds(corpus)
    polish = [a for a, g in gold_of.items() if g["language"] == "pl"]
    instrumental = re.compile(
        r"\bz (ministrem|prezydentem|premierem|sekretarzem) [^.]*?\w+(em|im)\b"
    )
    assert any(instrumental.search(text_of[a]) for a in polish)
    weekdays = ["poniedziałek", "wtorek", "środę", "czwartek", "piątek", "sobotę", "niedzielę"]
    checked = 0
    for a in polish:
        g = gold_of[a]
        for meeting in g.get("meetings", []):
            day = meeting["date"]
            phrase = ("we " if day.weekday() == 1 else "w ") + weekdays[day.weekday()]
            if g["published"] and phrase in text_of[a]:
                assert 0 <= (g["published"] - day).days < 7
                checked += 1
    assert checked > 5


def test_officials_hold_their_post_on_the_day_and_are_named_by_post_only_when_sole_holder(
    corpus,
):
    ref = load_reference(REFERENCE)
    by_name = {o.name_en: o for o in ref.officials.values()}
    by_post = 0
    for g in golds(corpus).values():
        day = next((m["date"] for m in g.get("meetings", [])), g["published"])
        if day is None:
            continue
        for entry in g.get("officials", []):
            official = by_name[entry["name"]]
            post = ref.post_held(official, day)
            assert post is not None and post.label_en == entry["role"]
            if entry.get("named") is False:
                by_post += 1
                assert ref.holders(post.key, day) == [official]
                assert entry["name"] not in entry["mention"]
    assert by_post > 0


def test_page_debris_lines_stand_between_paragraphs(corpus):
    debris = {"Share this article", "Advertisement", "REKLAMA", "Czytaj także", "Udostępnij"}
    lines = {line for text in texts(corpus).values() for line in text.splitlines()}
    assert debris & lines


def test_kg_synth_then_build_then_eval_scores_every_synthetic_article(tmp_path, capsys):
    out = tmp_path / "corpus"
    assert main(["synth", "--articles", "8", "--seed", "2", "--out", str(out)]) == 0
    assert "Wrote 8 article(s)" in capsys.readouterr().out
    build = tmp_path / "build"
    assert main(["build", "--articles", str(out / "articles"), "--out", str(build)]) == 0
    assert main(["eval", "--out", str(build), "--gold", str(out / "gold")]) == 0
    captured = capsys.readouterr()
    assert "not in the graph" not in captured.err
    assert "officials" in captured.out


def test_synth_refuses_a_corpus_of_no_articles_with_exit_2(tmp_path, capsys):
    assert main(["synth", "--articles", "0", "--out", str(tmp_path)]) == 2
    assert "not a positive number" in capsys.readouterr().err
    assert not (tmp_path / "articles").exists()


def test_meeting_days_fall_in_the_reference_period(corpus):
    for g in golds(corpus).values():
        for meeting in g.get("meetings", []):
            assert dt.date(2016, 1, 1) <= meeting["date"] <= dt.date(2024, 12, 31)
