"""What the extraction tests share: a short text through `kg.extract`, and the parts of its
record that a test looks at."""

from __future__ import annotations

import datetime as dt

from kg.extract import extract
from kg.extract.record import ArticleRecord
from kg.read import Article
from kg.reference import Reference


def extract_text(
    ref: Reference, text: str, language: str = "en", published: dt.date | None = None
) -> ArticleRecord:
    return extract(Article(id="t", text=text, language=language, published=published), ref)


def meetings(record: ArticleRecord) -> list[list[str]]:
    return [m.participants for m in record.meetings]


def reported(record: ArticleRecord) -> list[tuple[str, str]]:
    return [(s.speaker, s.quote) for s in record.statements if not s.direct]
