"""Mentions: where the text names officials, states, alliances and places, linked to reference
entities. Linking never guesses: an inexact match links only when its context (post, state)
agrees with the reference record; otherwise the official stays unlinked."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from kg.extract.lexicon import Lexicon
from kg.extract.names import Gazetteer, Match, Name, inflected_match, polish_nominative_name
from kg.extract.romanise import english_spelling, romanisation_for
from kg.extract.text import Token, fold, slug
from kg.reference import Official, Reference

FUZZY_NAME_THRESHOLD = 85.0
# The cue key of "counterpart" words: the post is that of the official the sentence is about.
COUNTERPART = "counterpart"
MAX_PORTFOLIO_WORDS = 7


@dataclass
class Mention:
    type: str  # Official | State | Alliance | Place | Organisation
    key: str
    start: int
    end: int
    first: int  # token indices
    last: int
    via: str = "name"  # name | surname | inflection | fuzzy | post | cue | adjective
    is_object: bool = False
    post_kind: str | None = None
    state: str | None = None
    confidence: float = 1.0


@dataclass
class NewOfficial:
    """An official the text names with a post cue but the reference data does not know."""

    key: str
    label: str
    post_kind: str | None
    state: str | None
    # False when the label was rebuilt from an inflected form ("z Annaleną Baerbock"), so a
    # later nominative spelling of the same person replaces it.
    label_as_written: bool = True
    # The English spelling of a name Polish respells from another script ("Siergiej Ławrow"
    # -> "Sergey Lavrov"); `label` keeps the text's spelling, which later mentions are found by.
    label_en: str | None = None

    @property
    def english_label(self) -> str:
        return self.label_en or self.label


@dataclass
class PostPhrase:
    """A post named without a person ("minister obrony Ukrainy", "Polish minister")."""

    kind: str | None
    states: list[str]
    start: int
    end: int
    first: int
    last: int
    is_object: bool
    plural: bool
    resolved: str | None = None  # official key when the holder on the date is known


def _gazetteer_names(ref: Reference, lex_by_lang: dict[str, Lexicon]) -> list[Name]:
    names: list[Name] = []
    for s in ref.states.values():
        for n in (s.name_en, s.name_pl, *s.aliases_en, *s.aliases_pl):
            names.append(Name(tuple(n.split()), "State", s.iso2, "name"))
        for a in s.adjectives_en:
            names.append(Name(tuple(a.split()), "State", s.iso2, "adjective", "en"))
        for a in s.adjectives_pl:
            names.append(Name(tuple(a.split()), "State", s.iso2, "adjective", "pl"))
    for o in ref.organisations.values():
        type_ = "Alliance" if o.is_alliance else "Organisation"
        for n in (o.name_en, o.name_pl, *o.aliases_en, *o.aliases_pl):
            names.append(Name(tuple(n.split()), type_, o.key, "name"))
        for n in o.weak_aliases_en:
            names.append(Name(tuple(n.split()), type_, o.key, "weak", "en"))
        for n in o.weak_aliases_pl:
            names.append(Name(tuple(n.split()), type_, o.key, "weak", "pl"))
    surnames: dict[str, set[str]] = {}
    for off in ref.officials.values():
        for n in off.names:
            names.append(Name(tuple(n.split()), "Official", off.key, "name"))
            last = n.split()[-1]
            if len(last) >= 4:
                surnames.setdefault(fold(last), set()).add(off.key)
    for off in ref.officials.values():
        for n in off.names:
            last = n.split()[-1]
            if len(surnames.get(fold(last), ())) == 1:
                names.append(Name((last,), "Official", off.key, "surname"))
    for p in ref.places.values():
        for n in (p.name_en, p.name_pl, *p.aliases_en, *p.aliases_pl):
            if n:
                names.append(Name(tuple(n.split()), "Place", p.key, "name"))
    for k in ref.post_kinds.values():
        for c in k.cues_en:
            names.append(Name(tuple(c.split()), "PostCue", k.kind, "name", "en"))
        for c in k.cues_pl:
            names.append(Name(tuple(c.split()), "PostCue", k.kind, "name", "pl"))
    for lang, lex in lex_by_lang.items():
        for n, iso2 in lex.institutions.items():
            names.append(Name(tuple(n.split()), "Institution", iso2, "name", lang))
        for n in lex.counterpart_nouns:
            names.append(Name(tuple(n.split()), "PostCue", COUNTERPART, "name", lang))
        for kind, cues in lex.post_cues.items():
            for c in cues:
                names.append(Name(tuple(c.split()), "PostCue", kind, "name", lang))
    # Dedupe while keeping the first (strongest) reading of each spelling.
    seen: set[tuple[tuple[str, ...], str, str | None]] = set()
    unique = []
    for name in names:
        marker = (name.folded, name.type + name.strength, name.language)
        if marker not in seen:
            seen.add(marker)
            unique.append(name)
    return unique


_GAZETTEERS: dict[int, Gazetteer] = {}


def gazetteer_for(ref: Reference, lex_by_lang: dict[str, Lexicon]) -> Gazetteer:
    cached = _GAZETTEERS.get(id(ref))
    if cached is None:
        cached = Gazetteer(_gazetteer_names(ref, lex_by_lang))
        _GAZETTEERS.clear()
        _GAZETTEERS[id(ref)] = cached
    return cached


@lru_cache(maxsize=4096)
def _is_capitalised_word(word: str) -> bool:
    return word[:1].isupper() and word[1:2].islower() if len(word) > 1 else False


class MentionFinder:
    """Finds and links the mentions of one article."""

    def __init__(
        self,
        text: str,
        toks: list[Token],
        language: str,
        anchor: dt.date | None,
        ref: Reference,
        lex: Lexicon,
        gazetteer: Gazetteer,
    ) -> None:
        self.text = text
        self.toks = toks
        self.language = language
        self.anchor = anchor
        self.ref = ref
        self.lex = lex
        self.gazetteer = gazetteer
        self.matches = gazetteer.find(toks, language)
        self.mentions: list[Mention] = []
        self.new_officials: dict[str, NewOfficial] = {}
        self.post_phrases: list[PostPhrase] = []
        self.cue_context: dict[str, tuple[str | None, str | None]] = {}

    # -- public -------------------------------------------------------------------------
    def run(self) -> list[Mention]:
        strong_orgs = {m.name.key for m in self.matches if m.name.strength != "weak"}
        used: set[int] = set()
        for idx, m in enumerate(self.matches):
            if m.name.type == "PostCue":
                self._post_phrase(idx, used)
        for idx, m in enumerate(self.matches):
            if idx in used or m.name.type in ("PostCue", "Institution"):
                continue
            if m.name.strength == "weak" and m.name.key not in strong_orgs:
                continue
            if m.name.type == "Official":
                self._official_by_name(m)
                continue
            via = "adjective" if m.name.strength == "adjective" else "name"
            if m.inflected:
                via = "inflection"
            self._add(m.name.type, m.name.key, m.first, m.last, via)
        self._link_surnames()
        self._spell_new_officials_in_english()
        self.mentions.sort(key=lambda x: (x.start, x.end))
        return self.mentions

    def _spell_new_officials_in_english(self) -> None:
        """Officials of a state whose names Polish respells from another script get the English
        spelling as their label and key, so that "Ławrow" in a Polish article and "Lavrov" in
        an English one are one person in the graph."""
        for new in list(self.new_officials.values()):
            romanisation = romanisation_for(new.state, self.lex.romanisations)
            if romanisation is None:
                continue
            new.label_en = english_spelling(new.label, romanisation)
            key = slug(new.label_en)
            if key == new.key or key in self.new_officials:
                continue
            del self.new_officials[new.key]
            for m in self.mentions:
                if m.type == "Official" and m.key == new.key:
                    m.key = key
            if new.key in self.cue_context:
                self.cue_context[key] = self.cue_context.pop(new.key)
            new.key = key
            self.new_officials[key] = new

    # -- later mentions of officials found by a cue ("Austin said", "Pistoriusem") ----------
    def _link_surnames(self) -> None:
        """News names a person in full once and by surname afterwards: a surname of one (and
        only one) official found in full by a cue links to that official."""
        by_surname: dict[str, set[str]] = {}
        for new in self.new_officials.values():
            words = new.label.split()
            if len(words) >= 2:
                by_surname.setdefault(fold(words[-1]), set()).add(new.key)
        surnames = {s: keys.pop() for s, keys in by_surname.items() if len(keys) == 1}
        self._merge_surname_only_officials(surnames)
        claimed = {i for m in self.matches for i in range(m.first, m.last + 1)}
        claimed |= {i for m in self.mentions for i in range(m.first, m.last + 1)}
        # Full names first ("z Mikiem Pompeo"), then surnames alone.
        names = [(fold(n.label), n.key) for n in self.new_officials.values()]
        names += [(surname, key) for surname, key in surnames.items()]
        for name, key in names:
            new = self.new_officials[key]
            parts = re.split(r"[\s-]+", name)
            for i in range(len(self.toks) - len(parts) + 1):
                span = range(i, i + len(parts))
                if claimed.intersection(span) or not self._surname_at(i, parts):
                    continue
                self._add(
                    "Official",
                    key,
                    i,
                    i + len(parts) - 1,
                    "surname",
                    post_kind=new.post_kind,
                    state=new.state,
                    confidence=0.8,
                )
                claimed.update(span)

    def _merge_surname_only_officials(self, surnames: dict[str, str]) -> None:
        """ "wicepremier Kosiniak-Kamysz" is the "Władysław Kosiniak-Kamysz" named elsewhere."""
        for new in list(self.new_officials.values()):
            if len(new.label.split()) != 1:
                continue
            target = surnames.get(fold(polish_nominative_name(new.label)))
            target = target or surnames.get(fold(new.label))
            if target is None or target == new.key:
                continue
            del self.new_officials[new.key]
            full = self.new_officials[target]
            full.post_kind = full.post_kind or new.post_kind
            full.state = full.state or new.state
            for m in self.mentions:
                if m.type == "Official" and m.key == new.key:
                    m.key = target

    def _surname_at(self, i: int, parts: list[str]) -> bool:
        """Tokens i.. spell the surname (a Polish case form allowed) and stand alone as a name:
        not part of a longer run of capitalised words ("Hans Pistorius" is someone else)."""
        toks = self.toks[i : i + len(parts)]
        for k, (tok, part) in enumerate(zip(toks, parts, strict=True)):
            if not _is_capitalised_word(tok.text):
                return False
            if k and self.text[toks[k - 1].end : tok.start] not in ("-", " "):
                return False
            same = tok.folded == part or (
                self.language == "pl" and inflected_match(tok.folded, part)
            )
            if not same:
                return False
        last = i + len(parts) - 1
        return not (self._name_word_next_to(i, -1) or self._name_word_next_to(last, 1))

    def _name_word_next_to(self, i: int, step: int) -> bool:
        j = i + step
        if not 0 <= j < len(self.toks):
            return False
        a, b = (self.toks[j], self.toks[i]) if step < 0 else (self.toks[i], self.toks[j])
        if self.text[a.end : b.start] != " ":
            return False
        word = self.toks[j].text
        in_cue = any(
            m.first <= j <= m.last and m.name.type in ("PostCue", "State", "Institution")
            for m in self.matches
        )
        return _is_capitalised_word(word) and word not in self.lex.not_names and not in_cue

    # -- officials named directly -------------------------------------------------------
    def _official_by_name(self, m: Match) -> None:
        official = self.ref.officials[m.name.key]
        via = "inflection" if m.inflected else "name"
        confidence = 0.95 if m.inflected else 1.0
        if m.name.strength == "surname":
            if not self._context_agrees(
                official, *self.cue_context.get(official.key, (None, None))
            ):
                return
            via, confidence = "surname", 0.85
        # The mention carries the person's post, so that "the German minister" is not them.
        post = self.ref.post_held(official, self.anchor)
        self._add(
            "Official",
            official.key,
            m.first,
            m.last,
            via,
            post_kind=post.kind if post else None,
            state=post.state if post else official.citizen_of,
            confidence=confidence,
        )

    def _context_agrees(self, official: Official, kind: str | None, state: str | None) -> bool:
        """A surname or fuzzy match links only when the person fits the article's context."""
        posts = [
            self.ref.posts.get(t.post)
            for t in official.posts
            if self.anchor is None or t.covers(self.anchor)
        ]
        posts = [p for p in posts if p is not None]
        if not posts:
            return False
        if kind is not None and not any(kinds_agree(kind, p.kind) for p in posts):
            return False
        if state is not None and not any(p.state == state for p in posts):
            return False
        if kind is None and state is None:
            states = {p.state for p in posts} | {official.citizen_of}
            named_states = {m.name.key for m in self.matches if m.name.type == "State"}
            return bool(states & named_states)
        return True

    # -- post phrases: cue [state] [name] -----------------------------------------------
    def _post_phrase(self, idx: int, used: set[int]) -> None:
        cue = self.matches[idx]
        kind = cue.name.key
        states: list[str] = self._states_inside(cue)
        inner_states = bool(states)
        orgs: list[str] = []
        first = cue.first
        before = self._match_before(idx)
        if before is not None and before.name.type in ("State", "Institution", "Alliance"):
            (orgs if before.name.type == "Alliance" else states).append(before.name.key)
            if before.name.type == "State":
                self._add("State", before.name.key, before.first, before.last, "adjective")
            first = before.first
            if before.name.type != "Alliance":  # "NATO Secretary General": NATO is named too
                used.add(idx - 1)
        if kind == COUNTERPART:
            kind = self._kind_of_last_official(cue.start)
        # "of" + state (en), or state names right after the cue (pl genitive), a list allowed
        j = idx + 1
        cursor = cue.last
        plural = self._plural(cue)
        while j < len(self.matches):
            nxt = self.matches[j]
            gap = self._gap_words(cursor, nxt.first)
            allowed = ({"of", "the"} if self.language == "en" else set()) | (
                {"and", "i", "oraz", ","} if states else set()
            )
            if nxt.name.type == "Alliance" and not gap and not orgs:
                # "Sekretarz generalny NATO"; the alliance itself is linked later
                orgs.append(nxt.name.key)
                cursor = nxt.last
                j += 1
                continue
            if (
                nxt.name.type in ("State", "Institution")
                and set(gap) <= allowed
                and (nxt.name.strength != "adjective" or self.language == "pl")
            ):
                if states and before is not None and j == idx + 1 and not gap:
                    break
                if inner_states:
                    # "szefa francuskiej dyplomacji Francja, Niemcy i Polska ...": the cue has
                    # its state; the states after it open the next clause.
                    break
                states.append(nxt.name.key)
                self._add("State", nxt.name.key, nxt.first, nxt.last, "name")
                used.add(j)
                cursor = nxt.last
                j += 1
                continue
            break
        if self._former(first) or self._not_public(first):
            return  # "former Prime Minister X", "opposition leader X": no public post today
        if not states and not orgs and self._names_home_institution(cue):
            states = [self.lex.home_state]  # type: ignore[list-item]
        state = states[0] if len(set(states)) == 1 else None
        org = orgs[0] if len(orgs) == 1 and not states else None
        # A person after the cue: a reference name, or capitalised words
        nxt = self.matches[j] if j < len(self.matches) else None
        gap = self._gap_words(cursor, nxt.first) if nxt is not None else ["?"]
        is_object = self._is_object(first)
        if nxt is not None and nxt.name.type == "Official" and not gap:
            official = self.ref.officials[nxt.name.key]
            if nxt.name.strength == "surname" and not self._context_agrees(official, kind, state):
                return
            self.cue_context[official.key] = (kind, state)
            used.add(j)
            via = "inflection" if nxt.inflected else "name"
            self._add(
                "Official",
                official.key,
                nxt.first,
                nxt.last,
                via,
                first_for_object=first,
                post_kind=kind,
                state=state,
            )
            return
        name_toks = self._name_after(cursor) or self._name_in_apposition_before(first)
        if name_toks:
            start = min(first, self.toks.index(name_toks[0]))
            self._named_by_cue(name_toks, kind, state, start, cue)
            return
        phrase = PostPhrase(
            kind,
            states,
            self.toks[first].start,
            self.toks[cursor].end,
            first,
            cursor,
            is_object,
            plural,
        )
        if not plural and kind is not None:
            phrase.resolved = self._holder(kind, state, org)
            if phrase.resolved:
                self._add(
                    "Official",
                    phrase.resolved,
                    first,
                    cursor,
                    "post",
                    first_for_object=first,
                    post_kind=kind,
                    state=state,
                    confidence=0.8,
                )
        self.post_phrases.append(phrase)

    def _names_home_institution(self, cue: Match) -> bool:
        """ "szef MON", "szefowa MSZ" with no state: Polish news names its own country's
        ministries by these abbreviations alone, so the post is the home state's."""
        if self.lex.home_state is None:
            return False
        return any(
            t.text in self.lex.home_institutions for t in self.toks[cue.first : cue.last + 1]
        )

    def _only_alliance_with(self, kind: str) -> str | None:
        """ "The Secretary General" in an article that names one alliance with such a post: that
        alliance's. A post that states also have ("the minister") is never completed this way."""
        if self.ref.posts_of(kind) and any(p.state for p in self.ref.posts_of(kind)):
            return None
        named = {m.name.key for m in self.matches if m.name.type == "Alliance"}
        orgs = {o for o in named if self.ref.posts_of(kind, org=o)}
        return orgs.pop() if len(orgs) == 1 else None

    def _states_inside(self, cue: Match) -> list[str]:
        """States named inside a cue ("szefa polskiej dyplomacji", "sekretarz stanu USA")."""
        inner = self.toks[cue.first + 1 : cue.last + 1]
        found = []
        for m in self.gazetteer.find(inner, self.language):
            if m.name.type == "State":
                found.append(m.name.key)
                first, last = cue.first + 1 + m.first, cue.first + 1 + m.last
                self._add("State", m.name.key, first, last, m.name.strength)
        return found

    def _kind_of_last_official(self, pos: int) -> str | None:
        """ "his Ukrainian counterpart X" holds the post of the official the sentence is about."""
        for m in reversed(self.mentions):
            if m.type == "Official" and m.end <= pos and pos - m.end < 300:
                if "\n" in self.text[m.end : pos]:
                    return None
                official = self.ref.officials.get(m.key)
                post = self.ref.post_held(official, self.anchor) if official else None
                return post.kind if post else m.post_kind
        return None

    def _former(self, first: int) -> bool:
        k = first - 1
        while k >= 0 and self.toks[k].folded in self.lex.determiners:
            k -= 1
        return (
            k >= 0
            and self.toks[k].folded in self.lex.former_words
            and not re.search(r"[.!?\n]", self.text[self.toks[k].end : self.toks[first].start])
        )

    def _not_public(self, first: int) -> bool:
        k = first - 1
        while k >= 0 and self.toks[k].folded in self.lex.determiners:
            k -= 1
        return (
            k >= 0
            and self.toks[k].folded in self.lex.not_public_words
            and not re.search(r"[.!?\n]", self.text[self.toks[k].end : self.toks[first].start])
        )

    def _name_in_apposition_before(self, first: int) -> list[Token]:
        """ "Siergieja Ławrowa, szefa rosyjskiej dyplomacji", "X, the Lithuanian foreign minister":
        two or three capitalised words right before a comma that opens the post phrase."""
        k = first - 1
        while k >= 0 and self.toks[k].folded in self.lex.determiners:
            k -= 1
        if k < 0 or self.text[self.toks[k].end : self.toks[k + 1].start].strip() != ",":
            return []
        claimed = {i for m in self.matches for i in range(m.first, m.last + 1)}
        out: list[Token] = []
        while k >= 0 and len(out) < 3:
            tok = self.toks[k]
            after = self.toks[k + 1].start if out else None
            if after is not None and self.text[tok.end : after].strip(" -"):
                break
            if k in claimed or not _is_capitalised_word(tok.text) or tok.text in self.lex.not_names:
                break
            out.insert(0, tok)
            k -= 1
        return out if len(out) >= 2 and self._person_like(out) else []

    def _plural(self, cue: Match) -> bool:
        word = self.toks[cue.first].folded
        return word.endswith(("ami", "ow", "owie")) or word.endswith("s") and self.language == "en"

    def _holder(self, kind: str, state: str | None, org: str | None = None) -> str | None:
        """The one person who held the post on the article's date, else None."""
        if state is None and org is None:
            org = self._only_alliance_with(kind)
        if self.anchor is None or (state is None and org is None):
            return None
        holders = {
            o.key
            for p in self.ref.posts_of(kind, state=state, org=org)
            for o in self.ref.holders(p.key, self.anchor)
        }
        return holders.pop() if len(holders) == 1 else None

    def _named_by_cue(
        self, name_toks: list[Token], kind: str, state: str | None, first: int, cue: Match
    ) -> None:
        label = self.text[name_toks[0].start : name_toks[-1].end]
        inflected = self._cue_inflected(cue)
        if self.language == "pl":
            label = polish_nominative_name(label, inflected)
        i0 = self.toks.index(name_toks[0])
        i1 = self.toks.index(name_toks[-1])
        linked = self._fuzzy_link(label, kind, state)
        if linked is not None:
            self.cue_context[linked] = (kind, state)
            self._add(
                "Official",
                linked,
                i0,
                i1,
                "fuzzy",
                first_for_object=first,
                post_kind=kind,
                state=state,
                confidence=0.75,
            )
            return
        key = slug(label)
        self._remember_new_official(NewOfficial(key, label, kind, state, not inflected))
        self._add(
            "Official",
            key,
            i0,
            i1,
            "cue",
            first_for_object=first,
            post_kind=kind,
            state=state,
            confidence=0.7,
        )

    def _cue_inflected(self, cue: Match) -> bool:
        """A Polish cue not in the nominative ("z ministrem", "szefa"): the name after it is
        inflected too. Feminine cues ("minister", "wysoka przedstawiciel") are nominative."""
        if self.language != "pl":
            return False
        word = self.toks[cue.first].folded
        return word not in self.gazetteer.first_words("PostCue", self.language)

    def _remember_new_official(self, new: NewOfficial) -> None:
        known = self.new_officials.get(new.key)
        if known is None:
            self.new_officials[new.key] = new
            return
        if new.label_as_written and not known.label_as_written:
            known.label, known.label_as_written = new.label, True
        known.post_kind = known.post_kind or new.post_kind
        known.state = known.state or new.state

    def _fuzzy_link(self, label: str, kind: str, state: str | None) -> str | None:
        best: tuple[float, str] | None = None
        for official in self.ref.officials.values():
            score = max(fuzz.ratio(fold(label), fold(n)) for n in official.names)
            if score >= FUZZY_NAME_THRESHOLD and (best is None or score > best[0]):
                best = (score, official.key)
        if best is None:
            return None
        official = self.ref.officials[best[1]]
        same_surname_start = any(
            fold(n.split()[-1])[:2] == fold(label.split()[-1])[:2] for n in official.names
        )
        if same_surname_start and self._context_agrees(official, kind, state):
            return official.key
        return None

    def _name_after(self, cursor: int) -> list[Token]:
        """Up to three capitalised words right after token `cursor` (or after the portfolio
        that follows it: "komisarz ds. obronności Andrius Kubilius") that no entity claimed."""
        claimed = {i for m in self.matches for i in range(m.first, m.last + 1)}
        out: list[Token] = []
        i = self._after_portfolio(cursor) + 1
        while i < len(self.toks) and len(out) < 3:
            tok = self.toks[i]
            prev_end = self.toks[i - 1].end
            between = self.text[prev_end : tok.start]
            if between.strip(" -") or "\n" in between or i in claimed:
                break
            if not _is_capitalised_word(tok.text) or tok.text in self.lex.not_names:
                break
            out.append(tok)
            i += 1
        return out if len(out) >= 2 and self._person_like(out) else []

    def _after_portfolio(self, cursor: int) -> int:
        """The last token of a portfolio after a post ("for defence and space", "ds.
        zagranicznych", "do spraw zagranicznych i polityki bezpieczeństwa"), else `cursor`."""
        words = [t.folded for t in self.toks[cursor + 1 : cursor + 3]]
        marker = next(
            (
                len(m.split())
                for m in self.lex.portfolio_markers
                if words[: len(m.split())] == m.split()
            ),
            0,
        )
        if not marker:
            return cursor
        i = cursor + marker
        end = min(len(self.toks) - 1, i + MAX_PORTFOLIO_WORDS)
        while i < end and not self.toks[i + 1].capitalised:
            if re.search(r"[,;:!?\n]", self.text[self.toks[i].end : self.toks[i + 1].start]):
                return cursor
            i += 1
        return i

    def _person_like(self, name_toks: list[Token]) -> bool:
        """Organisations ("Centrum Informacyjne Rządu", "Institute of ...") are not people."""
        return not any(t.folded in self.lex.organisation_words for t in name_toks)

    # -- helpers ------------------------------------------------------------------------
    def _match_before(self, idx: int) -> Match | None:
        if idx == 0:
            return None
        prev = self.matches[idx - 1]
        gap = self._gap_words(prev.last, self.matches[idx].first)
        # "... the Bucharest Nine. Minister Rau": a sentence ends between them
        between = self.text[prev.end : self.matches[idx].start]
        if re.search(r"[.!?]", between):
            return None
        return prev if not gap or gap == ["s"] else None

    def _gap_words(self, last: int, first: int) -> list[str]:
        if first <= last + 1:
            between = (
                self.text[self.toks[last].end : self.toks[first].start] if first > last else ""
            )
            if "\n" in between:
                return ["\n"]
            return [","] if "," in between else []
        words = [t.folded for t in self.toks[last + 1 : first]]
        between = self.text[self.toks[last].end : self.toks[first].start]
        if "\n" in between:
            words.append("\n")
        return words

    def _is_object(self, first: int) -> bool:
        """True when the word before a name makes it an object ("with Pahor", "z ministrem")."""
        k = first - 1
        while k >= 0 and self.toks[k].folded in (
            "his",
            "her",
            "jego",
            "jej",
            "swoim",
            "swoja",
            "the",
        ):
            k -= 1
        if k < 0 or re.search(r"[.!?\n]", self.text[self.toks[k].end : self.toks[first].start]):
            return False
        if k >= 1 and f"{self.toks[k - 1].folded} {self.toks[k].folded}" == "according to":
            return False
        return self.toks[k].folded in self.lex.object_markers

    def _add(
        self,
        type_: str,
        key: str,
        first: int,
        last: int,
        via: str,
        *,
        first_for_object: int | None = None,
        post_kind: str | None = None,
        state: str | None = None,
        confidence: float = 1.0,
    ) -> None:
        start, end = self.toks[first].start, self.toks[last].end
        if any(m.start == start and m.end == end and m.type == type_ for m in self.mentions):
            return
        self.mentions.append(
            Mention(
                type_,
                key,
                start,
                end,
                first,
                last,
                via,
                self._is_object(first if first_for_object is None else first_for_object),
                post_kind,
                state,
                confidence,
            )
        )


def kinds_agree(cue_kind: str, post_kind: str) -> bool:
    if cue_kind == post_kind:
        return True
    # Generic cues: "the minister" is any minister; "polski przywódca" (leader) is the head of
    # state or of government.
    generic = {
        "minister": post_kind.endswith("minister"),
        "official": True,
        "leader": post_kind in ("president", "prime-minister"),
    }
    return generic.get(cue_kind, False)


def kinds_compatible(a: str, b: str) -> bool:
    """Two posts one person could hold as named: one of them the generic form of the other
    ("szef polskiej dyplomacji" and "minister Waszczykowski")."""
    return kinds_agree(a, b) or kinds_agree(b, a)
