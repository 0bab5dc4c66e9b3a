"""Meetings: hosts and chairs named in the sentence after the gathering, and coming meetings
that are not reported as held."""

from __future__ import annotations

import datetime as dt

import pytest
from extraction import extract_text, meetings


def test_hosts_named_after_a_polish_gathering_are_its_participants(ref):
    text = (
        "Zakończona w czwartek w Warszawie dwudniowa konferencja na temat Bliskiego Wschodu "
        "(13–14.02.2019) zgromadziła przedstawicieli 60 państw. Gospodarzami spotkania byli "
        "minister spraw zagranicznych Jacek Czaputowicz i sekretarz stanu USA Mike Pompeo."
    )
    record = extract_text(ref, text, "pl", dt.date(2019, 2, 15))
    assert meetings(record) == [["jacek-czaputowicz", "mike-pompeo"]]


def test_chair_and_host_join_the_ministerial_meeting_before_them(ref):
    text = (
        "Nieformalne spotkanie ministrów obrony państw Unii Europejskiej odbyło się w "
        "Warszawie. Obradom przewodniczyła wysoka przedstawiciel UE Kaja Kallas, a gospodarzem "
        "był minister obrony narodowej Władysław Kosiniak-Kamysz."
    )
    record = extract_text(ref, text, "pl", dt.date(2025, 4, 10))
    assert meetings(record) == [["kaja-kallas", "wladyslaw-kosiniak-kamysz"]]


def test_english_talks_hosted_by_officials_are_a_meeting_of_them(ref):
    text = (
        "The two-day conference on Middle East security ended in Warsaw on Thursday. The talks "
        "were hosted by Polish Foreign Minister Jacek Czaputowicz and US Secretary of State "
        "Mike Pompeo."
    )
    record = extract_text(ref, text, "en", dt.date(2019, 2, 15))
    assert meetings(record) == [["jacek-czaputowicz", "mike-pompeo"]]


def test_host_sentence_in_another_paragraph_is_not_joined(ref):
    text = (
        "Zakończona w czwartek w Warszawie dwudniowa konferencja zgromadziła przedstawicieli "
        "60 państw.\n\nGospodarzami byli minister spraw zagranicznych Jacek Czaputowicz i "
        "sekretarz stanu USA Mike Pompeo."
    )
    assert meetings(extract_text(ref, text, "pl", dt.date(2019, 2, 15))) == []


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (
            "NATO Secretary General Jens Stoltenberg is due to travel to Washington next month "
            "for the meeting of NATO foreign ministers.",
            "en",
        ),
        (
            "Kolejne spotkanie ministrów obrony NATO z udziałem sekretarza generalnego NATO "
            "Jensa Stoltenberga zaplanowano na czerwiec.",
            "pl",
        ),
    ],
)
def test_a_coming_meeting_is_not_reported_as_held(ref, text, language):
    assert meetings(extract_text(ref, text, language, dt.date(2019, 3, 12))) == []


def test_a_held_meeting_is_still_found_without_future_words(ref):
    text = (
        "NATO Secretary General Jens Stoltenberg took part in the meeting of NATO foreign "
        "ministers."
    )
    assert meetings(extract_text(ref, text, "en", dt.date(2019, 3, 12))) == [["jens-stoltenberg"]]
