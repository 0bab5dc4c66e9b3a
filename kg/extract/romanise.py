"""English spellings of names that Polish writes by its own sound rules.

Polish respells names from languages in other scripts the way it pronounces them ("Siergiej
Ławrow", "Maria Zacharowa", "Mohammad Dżawad Zarif"); English romanises the same names
otherwise ("Sergey Lavrov", "Maria Zakharova", "Mohammad Javad Zarif"). The graph's labels are
English, so an official the reference data does not know gets the English spelling when the
state whose post they hold writes in such a script. The spelling rules are data in the Polish
lexicon (`romanisations`): a list of states and, for them, Polish letters -> English letters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Romanisation:
    """Spelling rules for the names of officials of `states`: (pattern, replacement) pairs,
    tried in order at each position of a lower-cased word; a pattern is a regular expression
    (without capturing groups) so that a rule can depend on its neighbours ("ie" after a
    consonant)."""

    states: frozenset[str]
    rules: tuple[tuple[str, str], ...]

    def pattern(self) -> re.Pattern[str]:
        return _compiled(self.rules)


_CACHE: dict[tuple[tuple[str, str], ...], re.Pattern[str]] = {}


def _compiled(rules: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    # One alternation, scanned once: a replacement is never rewritten by a later rule
    # ("cz" -> "ch" must not go on to "kh").
    pattern = _CACHE.get(rules)
    if pattern is None:
        pattern = re.compile("|".join(f"({p})" for p, _ in rules))
        _CACHE[rules] = pattern
    return pattern


def romanisation_for(
    state: str | None, romanisations: Sequence[Romanisation]
) -> Romanisation | None:
    if state is None:
        return None
    return next((r for r in romanisations if state in r.states), None)


def english_spelling(name: str, romanisation: Romanisation) -> str:
    """ "Siergiej Ławrow" -> "Sergey Lavrov": each word respelt, its capital kept."""
    return re.sub(r"\w+", lambda w: _respell_word(w.group(), romanisation), name)


def _respell_word(word: str, romanisation: Romanisation) -> str:
    pattern = romanisation.pattern()
    replacements = [r for _, r in romanisation.rules]

    def replace(m: re.Match[str]) -> str:
        return replacements[(m.lastindex or 1) - 1]

    respelt = pattern.sub(replace, word.lower())
    return respelt[:1].upper() + respelt[1:] if word[:1].isupper() else respelt
