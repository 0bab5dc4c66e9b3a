"""The read stage: front matter, language, and every kind of bad file refused by name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kg.errors import InputError
from kg.read import read_article

SEEDS = Path(__file__).resolve().parents[1] / "data" / "articles"


def write(tmp_path: Path, name: str, content: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def test_seed_front_matter_gives_metadata_and_the_text_as_received():
    article = read_article(SEEDS / "003_5b9274677ef01036.txt")
    assert article.id == "003_5b9274677ef01036"
    assert article.language == "en"
    assert article.published == dt.date(2024, 4, 4)
    assert article.publisher == "RT"
    seed = SEEDS.parents[2] / "shared" / "seeds" / "003_5b9274677ef01036.txt"
    if seed.exists():
        assert article.text == seed.read_text(encoding="utf-8")


def test_file_without_front_matter_is_read_with_detected_language(tmp_path):
    path = write(
        tmp_path,
        "a1.txt",
        "Minister obrony narodowej spotkał się w środę z ministrem "
        "spraw zagranicznych Litwy. Rozmowy dotyczyły bezpieczeństwa regionu.",
    )
    article = read_article(path)
    assert article.language == "pl"
    assert article.published is None


@pytest.mark.parametrize(
    ("content", "message", "line"),
    [
        (
            "---\ntitle: x\npubished: 2020-01-01\n---\ntext",
            "unknown front matter key 'pubished'",
            3,
        ),
        ("---\nlanguage: en\npublished: 31.02.2020\n---\ntext", "not a date", 3),
        ("---\nlanguage: de\n---\nDer Text.", "language 'de' (declared) is not supported", 2),
        ("---\ntitle: [unclosed\n---\ntext", "front matter is not valid YAML", None),
        ("---\ntitle: x\ntext without a closing line", "never closed", 1),
        ("---\ntitle: x\n---\n   \n", "the article has no text", None),
        ("", "the article has no text", None),
        ("---\nlanguage: en\npublished: 2024-13-01\n---\ntext", "month must be in 1..12", None),
    ],
)
def test_bad_article_is_refused_naming_file_and_line(tmp_path, content, message, line):
    path = write(tmp_path, "bad.txt", content)
    with pytest.raises(InputError) as info:
        read_article(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    if line is not None:
        assert info.value.line == line


def test_polish_text_in_cp1250_is_refused_with_a_conversion_hint(tmp_path):
    path = write(
        tmp_path, "cp.txt", "Spotkanie w Brukseli.\nBłaszczak powiedział.".encode("cp1250")
    )
    with pytest.raises(InputError) as info:
        read_article(path)
    assert "not UTF-8" in str(info.value) and "iconv" in str(info.value)
    assert info.value.line == 2


def test_binary_file_is_refused(tmp_path):
    path = write(tmp_path, "bin.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(InputError, match="binary content"):
        read_article(path)


def test_windows_line_ends_do_not_shift_offsets(tmp_path):
    path = write(tmp_path, "crlf.txt", "---\r\nlanguage: en\r\n---\r\nLine one.\r\nLine two.")
    assert read_article(path).text == "Line one.\nLine two."
