"""Officials the reference data does not know, named in Polish spelling of another script's
name, get the English spelling as their label (and so one key across languages)."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from extraction import extract_text

from kg.extract.lexicon import load_lexicon
from kg.extract.romanise import english_spelling, romanisation_for

# Polish articles of a day in 2018 unless a test says otherwise
run = partial(extract_text, language="pl", published=dt.date(2018, 9, 20))


def official_labels(record) -> dict[str, str]:
    return {e.key: e.label for e in record.entities if e.type == "Official"}


def test_russian_official_in_polish_spelling_gets_the_english_label(ref):
    record = run(
        ref,
        "Rzeczniczka rosyjskiego MSZ Maria Zacharowa oświadczyła w czwartek, że baza będzie "
        "zagrożeniem. Według Siergieja Ławrowa, szefa rosyjskiej dyplomacji, Waszyngton "
        "podsyca napięcie.",
    )
    labels = official_labels(record)
    assert labels["maria-zakharova"] == "Maria Zakharova"
    assert labels["sergey-lavrov"] == "Sergey Lavrov"
    assert all(e.qid is None for e in record.entities if e.key in labels)


def test_later_polish_mentions_still_find_the_respelt_official(ref):
    record = run(
        ref,
        "Rzeczniczka rosyjskiego MSZ Maria Zacharowa zabrała głos. «To droga donikąd» – "
        "powiedziała Zacharowa.",
    )
    assert [(s.speaker, s.quote) for s in record.statements if s.direct] == [
        ("maria-zakharova", "To droga donikąd")
    ]


def test_persian_name_in_polish_spelling_gets_the_english_label(ref):
    record = run(
        ref,
        "Szef irańskiego MSZ Mohammad Dżawad Zarif nazwał konferencję przedstawieniem.",
        published=dt.date(2019, 2, 15),
    )
    assert official_labels(record)["mohammad-javad-zarif"] == "Mohammad Javad Zarif"


def test_names_of_latin_script_states_keep_their_spelling(ref):
    record = run(
        ref,
        "Minister spraw zagranicznych Niemiec Annalena Baerbock przyjechała do Warszawy, a "
        "premier Izraela Benjamin Netanjahu do Waszyngtonu.",
        published=dt.date(2024, 5, 8),
    )
    labels = set(official_labels(record).values())
    assert "Benjamin Netanjahu" in labels
    assert "Annalena Baerbock" in labels


def test_english_articles_are_not_respelt(ref):
    record = run(
        ref,
        "Russian Foreign Ministry spokeswoman Maria Zakharova said on Thursday that the base "
        "was a threat.",
        language="en",
    )
    assert "Maria Zakharova" in official_labels(record).values()


@pytest.mark.parametrize(
    ("state", "polish", "english"),
    [
        ("RU", "Dmitrij Miedwiediew", "Dmitry Medvedev"),
        ("RU", "Siergiej Szojgu", "Sergey Shoygu"),
        ("BY", "Aleksandr Łukaszenka", "Aleksandr Lukashenka"),
        ("UA", "Ołeksij Reznikow", "Oleksii Reznikov"),
        ("UA", "Pawło Klimkin", "Pavlo Klimkin"),
        ("IR", "Ali Chamenei", "Ali Khamenei"),
    ],
)
def test_spelling_rules_respell_each_letter_once(state, polish, english):
    # "cz" -> "ch" must not go on to "kh"; "Wołodymyr" keeps its capital
    rules = romanisation_for(state, load_lexicon("pl").romanisations)
    assert rules is not None
    assert english_spelling(polish, rules) == english


def test_states_without_rules_have_no_romanisation():
    assert romanisation_for("DE", load_lexicon("pl").romanisations) is None
    assert romanisation_for(None, load_lexicon("pl").romanisations) is None
