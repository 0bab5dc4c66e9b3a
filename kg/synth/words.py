"""The words `kg synth` writes with: sentence templates and Polish case forms, read from
data/synth/ (see its README), and the inflection of names and post phrases they describe."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kg.errors import InputError

DEFAULT_WORDS_DIR = Path(__file__).resolve().parents[2] / "data" / "synth"
LANGUAGES = ("en", "pl")


@dataclass(frozen=True)
class Words:
    """One language's templates (`lang`), plus the Polish case tables (`polish`)."""

    lang: str
    data: dict[str, Any]
    polish: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


def load_words(folder: Path = DEFAULT_WORDS_DIR) -> dict[str, Words]:
    """The templates of every language; an unreadable file is an InputError naming it."""
    polish = _load_yaml(Path(folder) / "polish.yaml")
    return {
        lang: Words(lang, _load_yaml(Path(folder) / f"{lang}.yaml"), polish) for lang in LANGUAGES
    }


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(path, "not valid YAML", mark.line + 1 if mark else None) from exc
    if not isinstance(data, dict):
        raise InputError(path, "expected a mapping of template lists")
    return data


# -- Polish inflection ----------------------------------------------------------------------
def inflect_word(word: str, case: str, polish: dict[str, Any]) -> str:
    """A masculine name in the genitive ("gen") or instrumental ("ins"); "nom" leaves it.

    >>> rules = {"name_cases": [{"ending": "k", "gen": "ka", "ins": "kiem"},
    ...                         {"ending": "", "gen": "a", "ins": "em"}]}
    >>> inflect_word("Błaszczak", "ins", rules), inflect_word("Mariusz", "gen", rules)
    ('Błaszczakiem', 'Mariusza')
    """
    if case == "nom":
        return word
    for rule in polish["name_cases"]:
        ending = rule["ending"]
        if word.endswith(ending):
            return word[: len(word) - len(ending)] + rule[case]
    return word


def inflect_name(name: str, case: str, polish: dict[str, Any]) -> str:
    return " ".join(inflect_word(part, case, polish) for part in name.split())


def inflect_phrase(phrase: str, case: str, polish: dict[str, Any]) -> str:
    """A post phrase with its head word(s) inflected ("ministrem obrony Litwy")."""
    if case == "nom":
        return phrase
    heads = sorted(polish["post_heads"], key=len, reverse=True)
    for head in heads:
        if phrase == head or phrase.startswith(head + " "):
            return polish["post_heads"][head][case] + phrase[len(head) :]
    return phrase
