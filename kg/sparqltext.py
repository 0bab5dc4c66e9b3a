"""Places in SPARQL text, found without being fooled by a comment, a string or an IRI that
holds the same word: where the WHERE clause opens (for a VALUES block), how many SELECTs a
query has, where its SERVICE blocks are. Used by kg.query (saved queries) and kg.validate
(the SPARQL constraints of the shapes); it imports nothing of the project."""

from __future__ import annotations

import re

# What a scan steps over whole, so that nothing inside it is taken for a keyword or a brace.
_SKIPPED = r"""
      (?P<comment>\#[^\n]*)
    | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
"""


def keyword(name: str) -> str:
    """A scan alternative for the keyword ``name`` (a group of that name, in lower case)."""
    return rf"(?P<{name.lower()}>(?<![\w?$:]){name}\b)"


def scanner(*alternatives: str) -> re.Pattern[str]:
    """A pattern that finds ``alternatives`` (named groups) outside comments, strings, IRIs."""
    return re.compile(
        _SKIPPED + "".join(f"    | {a}\n" for a in alternatives), re.VERBOSE | re.IGNORECASE
    )


_WHERE_SCAN = scanner(keyword("WHERE"), keyword("SELECT"), r"(?P<brace>\{)", r"(?P<close>\})")


def where_open(text: str) -> int | None:
    """The index just after the `{` that opens the query's (outermost) WHERE clause."""
    groups = where_groups(text)
    return groups[0][0] if groups else None


def where_groups(text: str) -> list[tuple[int, int]]:
    """Every `WHERE {` group of a query, its own first and then its sub-selects' in text order:
    the index just after its `{` and the index of its matching `}` (the text's end when the
    braces do not balance)."""
    groups: list[tuple[int, int]] = []
    opened: list[int | None] = []  # per open brace: the group it opens, if it opens one
    seen_where = False
    for match in _WHERE_SCAN.finditer(text):
        kind = match.lastgroup
        if kind == "where":
            seen_where = True
        elif kind == "brace":
            if seen_where:
                groups.append((match.end(), len(text)))
                opened.append(len(groups) - 1)
            else:
                opened.append(None)
            seen_where = False
        elif kind == "close" and opened:
            group = opened.pop()
            if group is not None:
                groups[group] = (groups[group][0], match.start())
    return groups


def select_count(text: str) -> int:
    """How many SELECTs the query has: more than one means sub-selects."""
    return sum(match.lastgroup == "select" for match in _WHERE_SCAN.finditer(text))
