"""`kg synth`: a synthetic corpus of English and Polish articles with gold annotations.

A tool beside the flow, not a stage of it: it writes article files (the input of `kg build`)
and gold files (the input of `kg eval`) so that the build can be timed and extraction scored at
any scale. Sentence templates and Polish case forms are data in data/synth/; people, posts,
states, organisations and places come from data/reference/.

    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> summary = synthesize(3, seed=1, out_dir=out)
    >>> sorted(p.name for p in (out / "articles").iterdir())
    ['synth-1-000000.txt', 'synth-1-000001.txt', 'synth-1-000002.txt']
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kg.reference import DEFAULT_REFERENCE_DIR, load_reference
from kg.synth.article import SynthArticle
from kg.synth.scenario import article_id, generate
from kg.synth.words import DEFAULT_WORDS_DIR, load_words

__all__ = ["SynthSummary", "article_id", "synthesize", "synth_command", "generate"]


@dataclass
class SynthSummary:
    articles: int
    by_language: dict[str, int]
    articles_dir: Path
    gold_dir: Path


def synthesize(
    count: int,
    seed: int,
    out_dir: Path,
    reference_dir: Path = DEFAULT_REFERENCE_DIR,
    words_dir: Path = DEFAULT_WORDS_DIR,
) -> SynthSummary:
    """Write `count` articles to OUT/articles and their gold to OUT/gold; deterministic."""
    ref = load_reference(reference_dir)
    words = load_words(words_dir)
    articles_dir, gold_dir = Path(out_dir) / "articles", Path(out_dir) / "gold"
    articles_dir.mkdir(parents=True, exist_ok=True)
    gold_dir.mkdir(parents=True, exist_ok=True)
    by_language = {"en": 0, "pl": 0}
    for index in range(count):
        article = generate(index, seed, ref, words)
        _write(articles_dir / f"{article.id}.txt", article_file(article))
        _write(gold_dir / f"{article.id}.yaml", gold_file(article))
        by_language[article.language] += 1
    return SynthSummary(count, by_language, articles_dir, gold_dir)


def article_file(article: SynthArticle) -> str:
    """Front matter (YAML between `---` lines) and the text, as `kg build` reads it."""
    meta = {
        "title": article.title,
        "url": f"https://news.example.org/{article.language}/{article.id}",
        "publisher": article.publisher,
        "published": article.published.isoformat() if article.published else None,
        "language": article.language,
    }
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front}---\n{article.text}"


def gold_file(article: SynthArticle) -> str:
    header = f"# Gold annotation of {article.id}.txt, written by `kg synth` (do not edit).\n"
    return header + yaml.safe_dump(
        _plain(article.gold), allow_unicode=True, sort_keys=False, width=1000
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v not in ([], None) or k == "published"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def synth_command(count: int, seed: int, out: Path, reference: Path) -> int:
    summary = synthesize(count, seed, out, reference)
    langs = ", ".join(f"{n} {lang}" for lang, n in summary.by_language.items())
    print(
        f"Wrote {summary.articles} article(s) ({langs}) to {summary.articles_dir} "
        f"and their gold annotations to {summary.gold_dir}"
    )
    return 0
