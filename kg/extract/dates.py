"""Dates in text: explicit ("12 lutego 2020", "February 12, 2020", "12.02.2020") and relative
("on Friday", "w środę", "yesterday") resolved against the article's date."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from kg.extract.lexicon import Lexicon
from kg.extract.text import fold


@dataclass(frozen=True)
class DateMention:
    start: int
    end: int
    day: dt.date
    relative: bool
    weekday_only: bool = False


# A run of letters is never given back ({3,}+): what follows it is never a letter, so giving
# one back could only fail, slowly.
_NUMERIC = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})\.?\s+([^\W\d_]{3,}+)\.?,?\s+(\d{4})\b")
_MONTH_DAY_YEAR = re.compile(r"\b([^\W\d_]{3,}+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_DAY_MONTH = re.compile(r"\b(\d{1,2})\.?\s+([^\W\d_]{3,}+)\b")
_MONTH_DAY = re.compile(r"\b([^\W\d_]{3,}+)\s+(\d{1,2})(?:st|nd|rd|th)?\b(?!,?\s*\d{4})")
# Half the articles give no day by number. Each month pattern needs a number before a space
# ("12 lutego") or after one ("February 12"): these quick searches (a search that starts with
# a character class runs in C) spare such articles the slower patterns.
_NUMBER_THEN_SPACE = re.compile(r"\d\.?\s")
_SPACE_THEN_NUMBER = re.compile(r"\s\d")
_WORD = re.compile(r"\w+")


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def find_dates(text: str, lex: Lexicon, anchor: dt.date | None) -> list[DateMention]:
    """Every date the text gives, with its offsets; relative ones only when `anchor` is known."""
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match[str], day: dt.date | None, relative: bool = False, weekday=False) -> None:
        if day is None or any(s < m.end() and m.start() < e for s, e in taken):
            return
        taken.append((m.start(), m.end()))
        found.append(DateMention(m.start(), m.end(), day, relative, weekday))

    number_first = _NUMBER_THEN_SPACE.search(text) is not None
    month_first = _SPACE_THEN_NUMBER.search(text) is not None
    for m in _ISO.finditer(text):
        add(m, _safe_date(int(m[1]), int(m[2]), int(m[3])))
    for m in _NUMERIC.finditer(text):
        add(m, _safe_date(int(m[3]), int(m[2]), int(m[1])))
    for m in _DAY_MONTH_YEAR.finditer(text) if number_first and month_first else ():
        month = lex.months.get(fold(m[2]))
        if month:
            add(m, _safe_date(int(m[3]), month, int(m[1])))
    for m in _MONTH_DAY_YEAR.finditer(text) if month_first else ():
        month = lex.months.get(fold(m[1]))
        if month:
            add(m, _safe_date(int(m[3]), month, int(m[2])))
    if anchor is not None:
        for pattern, day_group, month_group, possible in (
            (_DAY_MONTH, 1, 2, number_first),
            (_MONTH_DAY, 2, 1, month_first),
        ):
            for m in pattern.finditer(text) if possible else ():
                month = lex.months.get(fold(m[month_group]))
                if (
                    month
                    and fold(m[month_group]) != "may"
                    or (month and m[month_group][0].isupper())
                ):
                    add(m, _year_near(anchor, month, int(m[day_group])))
        weekdays, relative_days = lex.weekdays, lex.relative_days
        for m in _WORD.finditer(text):
            word = fold(m[0])
            if word in weekdays:
                add(m, last_weekday(anchor, weekdays[word]), relative=True, weekday=True)
            elif word in relative_days:
                add(m, anchor + dt.timedelta(days=relative_days[word]), relative=True)
    found.sort(key=lambda d: d.start)
    return found


def _year_near(anchor: dt.date, month: int, day: int) -> dt.date | None:
    """A day and month without a year: the occurrence nearest the anchor, not after it by much."""
    candidates = [_safe_date(anchor.year + k, month, day) for k in (-1, 0, 1)]
    candidates = [c for c in candidates if c is not None]
    return min(candidates, key=lambda c: abs((c - anchor).days)) if candidates else None


def last_weekday(anchor: dt.date, weekday: int) -> dt.date:
    """The most recent `weekday` on or before `anchor` ("on Friday" in a Friday's news is today)."""
    return anchor - dt.timedelta(days=(anchor.weekday() - weekday) % 7)
