"""Read stage: article files (YAML front matter + text) -> `Article`.

An article file is UTF-8 text. It may open with YAML front matter between a first line `---`
and a closing `---` line (as in Jekyll or Hugo); everything after the closing line is the
article's text, kept exactly as received. Without front matter the whole file is the text, the
language is detected and the publication date is unknown.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from kg.errors import InputError

SUPPORTED_LANGUAGES = ("en", "pl")
FRONT_MATTER_KEYS = {
    "title": "the article's headline",
    "url": "where it was published",
    "publisher": "who published it",
    "published": "publication date (YYYY-MM-DD, or a date and time)",
    "language": "en or pl",
    "reference_date": "the day relative dates count from when `published` is unknown",
    "retrieved": "when the text was retrieved",
    "note": "free text about the article's provenance",
}
MAX_ARTICLE_BYTES = 5 * 1024 * 1024
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

# libyaml's loader when PyYAML has it: the same safe types, ten times faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_yaml(text: str) -> Any:
    """``yaml.safe_load`` with libyaml where PyYAML has it (front matter, reference tables and
    lexicons are read by every build worker)."""
    return yaml.load(text, Loader=_YAML_LOADER)


@dataclass(frozen=True)
class Article:
    """One article as read from disk; `text` is what evidence offsets point into."""

    id: str
    text: str
    language: str
    published: dt.date | None = None
    url: str | None = None
    publisher: str | None = None
    title: str | None = None
    reference_date: dt.date | None = None
    path: str | None = None
    text_line: int = 1  # line of the file on which `text` starts

    @property
    def anchor_date(self) -> dt.date | None:
        """The date relative expressions ("on Friday") are resolved against."""
        return self.published or self.reference_date

    def to_json(self) -> dict[str, Any]:
        # not dataclasses.asdict, which deep-copies every value: these are all immutable
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for key in ("published", "reference_date"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data


def read_article(path: Path, raw: bytes | None = None) -> Article:
    """Read one article file; raise `InputError` naming the file (and line) when it is bad.

    `raw`: the file's bytes when the caller has read them already (a build worker hashes them).
    """
    path = Path(path)
    article_id = path.stem
    if not _ID_PATTERN.match(article_id):
        raise InputError(path, f"article id {article_id!r} (the file name) has unusual characters")
    raw = _read_bytes(path) if raw is None else _within_size(path, raw)
    content = _decode(path, raw)
    meta, text, text_line = _split_front_matter(path, content)
    if not text.strip():
        raise InputError(path, "the article has no text")
    language = _language(path, meta, text)
    published = _date_field(path, meta, "published")
    reference_date = _date_field(path, meta, "reference_date")
    for key, day in (("published", published), ("reference_date", reference_date)):
        if day is not None and day > dt.date.today() + dt.timedelta(days=1):
            raise InputError(
                path,
                f"front matter {key!r} is {day.isoformat()}, in the future",
                _key_line_of(meta, key),
            )
    return Article(
        id=article_id,
        text=text,
        language=language,
        published=published,
        url=_text_field(path, meta, "url"),
        publisher=_text_field(path, meta, "publisher"),
        title=_text_field(path, meta, "title"),
        reference_date=reference_date,
        path=str(path),
        text_line=text_line,
    )


def article_files(folder: Path) -> list[str]:
    """The paths of the article files of a corpus folder, in a stable order.

    Plain strings, not Paths: a rebuild of 100k articles spent a second making Path objects.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "no such folder of articles")
    # scandir knows each entry's kind without a stat
    with os.scandir(folder) as entries:
        paths = [e.path for e in entries if e.name.endswith((".txt", ".md")) and e.is_file()]
    return sorted(paths)


def _read_bytes(path: Path) -> bytes:
    try:
        _refuse_size(path, path.stat().st_size)
        return path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror}") from exc


def _within_size(path: Path, raw: bytes) -> bytes:
    _refuse_size(path, len(raw))
    return raw


def _refuse_size(path: Path, size: int) -> None:
    if size > MAX_ARTICLE_BYTES:
        raise InputError(
            path, f"file is {size:,} bytes; articles over {MAX_ARTICLE_BYTES:,} are refused"
        )


def _decode(path: Path, raw: bytes) -> str:
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise InputError(path, "binary content (NUL byte); articles are UTF-8 text", line)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            path,
            f"not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); if it is Polish "
            "text in cp1250 or ISO-8859-2, convert it: iconv -f cp1250 -t utf-8",
            line,
        ) from exc
    text = text.removeprefix("\ufeff")
    # Offsets must not depend on the platform the file was written on.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _split_front_matter(path: Path, content: str) -> tuple[dict[str, Any], str, int]:
    if not content.startswith("---\n"):
        return {}, content, 1
    end = re.search(r"^---[ \t]*$", content[4:], flags=re.MULTILINE)
    if end is None:
        raise InputError(path, "front matter opened with '---' is never closed", 1)
    block = content[4 : 4 + end.start()]
    after = 4 + end.end()
    text = content[after + 1 :] if content[after : after + 1] == "\n" else content[after:]
    text_line = content[: len(content) - len(text)].count("\n") + 1
    try:
        meta = safe_yaml(block) if block.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(path, f"front matter is not valid YAML: {problem}", line) from exc
    except ValueError as exc:  # YAML's own date parsing: "published: 2024-13-01"
        raise InputError(path, f"front matter has an impossible value: {exc}", None) from exc
    if not isinstance(meta, dict):
        raise InputError(path, "front matter must be a mapping of keys to values", 2)
    for key in meta:
        if key not in FRONT_MATTER_KEYS:
            known = ", ".join(FRONT_MATTER_KEYS)
            raise InputError(
                path, f"unknown front matter key {key!r} (known: {known})", _key_line(block, key)
            )
    return meta, text, text_line


def _key_line(block: str, key: object) -> int | None:
    for number, line in enumerate(block.splitlines(), start=2):
        if line.startswith(f"{key}:"):
            return number
    return None


def _text_field(path: Path, meta: dict[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise InputError(path, f"front matter {key!r} must be text", _key_line_of(meta, key))
    value = str(value).strip()
    return value or None


def _key_line_of(meta: dict[str, Any], key: str) -> int | None:
    return list(meta).index(key) + 2 if key in meta else None


def _date_field(path: Path, meta: dict[str, Any], key: str) -> dt.date | None:
    value = meta.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.datetime.fromisoformat(str(value).strip()).date()
    except ValueError as exc:
        raise InputError(
            path,
            f"front matter {key!r} is {value!r}, not a date (YYYY-MM-DD)",
            _key_line_of(meta, key),
        ) from exc


def _language(path: Path, meta: dict[str, Any], text: str) -> str:
    declared = meta.get("language")
    language = str(declared).strip().lower() if declared else detect_language(text)
    if language not in SUPPORTED_LANGUAGES:
        how = "declared" if declared else "detected"
        raise InputError(
            path,
            f"language {language!r} ({how}) is not supported; supported: "
            + ", ".join(SUPPORTED_LANGUAGES),
            _key_line_of(meta, "language") if declared else None,
        )
    return language


def detect_language(text: str) -> str:
    """The ISO 639-1 code of the text's language (py3langid, a small offline model)."""
    import py3langid

    code, _score = py3langid.classify(text[:20000])
    return str(code)
