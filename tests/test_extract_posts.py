"""Officials named only by a post ("the head of Polish diplomacy", "szef MON", "polski
przywódca"): which person of the article the post stands for."""

from __future__ import annotations

import datetime as dt

from extraction import extract_text, meetings, reported


def test_head_of_a_states_diplomacy_is_its_foreign_minister(ref):
    text = (
        "Minister of Foreign Affairs Zbigniew Rau arrived in Bucharest on Tuesday. "
        "Ukraine's Minister of Foreign Affairs Dmytro Kuleba also came. On Wednesday, the head "
        "of Polish diplomacy met Romania's Minister of Foreign Affairs Bogdan Aurescu."
    )
    record = extract_text(ref, text, "en", dt.date(2022, 12, 1))
    assert ["bogdan-aurescu", "zbigniew-rau"] in meetings(record)
    assert ["bogdan-aurescu", "dmytro-kuleba"] not in meetings(record)


def test_szef_mon_without_a_state_is_the_polish_defence_minister(ref):
    text = (
        "Gospodarzem był wicepremier, minister obrony narodowej Władysław Kosiniak-Kamysz. "
        "Minister obrony Niemiec Boris Pistorius zapowiedział ćwiczenia. "
        "W środę szef MON rozmawiał z minister obrony Litwy Dovile Sakaliene."
    )
    record = extract_text(ref, text, "pl", dt.date(2025, 4, 10))
    assert meetings(record) == [["dovile-sakaliene", "wladyslaw-kosiniak-kamysz"]]


def test_a_post_stands_for_the_official_holding_it_not_for_another_of_that_state(ref):
    text = (
        "Prezydentowi Andrzejowi Dudzie towarzyszył wicepremier i szef MON Władysław "
        "Kosiniak-Kamysz. Prezydent Andrzej Duda przemawiał w środę. Jak poinformował szef MON, "
        "rozmowa dotyczyła dostaw śmigłowców Apache."
    )
    record = extract_text(ref, text, "pl", dt.date(2024, 7, 12))
    assert reported(record) == [
        ("wladyslaw-kosiniak-kamysz", "rozmowa dotyczyła dostaw śmigłowców Apache.")
    ]


def test_foreign_post_in_polish_is_not_given_to_an_official_named_without_a_state(ref):
    text = (
        "Do Weimaru przyjechał minister Witold Waszczykowski. Zdaniem szefa francuskiej "
        "dyplomacji Francja, Niemcy i Polska powinny wspólnie przygotować propozycje."
    )
    record = extract_text(ref, text, "pl", dt.date(2016, 8, 29))
    assert all(s.speaker != "witold-waszczykowski" for s in record.statements)


def test_state_inside_a_post_cue_is_the_state_of_the_post(ref):
    text = (
        "Gospodarzem był sekretarz stanu USA Mike Pompeo. „Iran musi się zmienić” - "
        "powiedział amerykański sekretarz stanu."
    )
    record = extract_text(ref, text, "pl", dt.date(2019, 2, 15))
    pompeo = record.entity("Official", "mike-pompeo")
    assert pompeo is not None and pompeo.state == "US"
    assert [(s.speaker, s.quote) for s in record.statements if s.direct] == [
        ("mike-pompeo", "Iran musi się zmienić")
    ]


def test_polish_leader_stands_for_the_head_of_state(ref):
    text = (
        "Prezydent Andrzej Duda przedstawił propozycję we wtorek. Podczas spotkania z "
        "prezydentem USA Donaldem Trumpem polski przywódca zadeklarował, że Polska jest gotowa "
        "zapłacić za bazę."
    )
    record = extract_text(ref, text, "pl", dt.date(2018, 9, 20))
    assert ("andrzej-duda", "Polska jest gotowa zapłacić za bazę.") in reported(record)
    assert ["andrzej-duda", "donald-trump"] in meetings(record)
