"""Extraction behaviour, each case on a short purpose-made text."""

from __future__ import annotations

import datetime as dt

import pytest
from extraction import extract_text, reported

from kg.extract.names import polish_nominative_name


def officials(record) -> dict[str, str | None]:
    return {e.key: e.qid for e in record.entities if e.type == "Official"}


def test_polish_inflected_name_links_to_the_person(ref):
    record = extract_text(
        ref,
        "Mariusz Błaszczak spotkał się z ministrem obrony USA Markiem Esperem.",
        "pl",
        dt.date(2020, 2, 12),
    )
    assert officials(record)["mark-esper"] == "Q33190271"
    assert record.meetings[0].participants == ["mariusz-blaszczak", "mark-esper"]


def test_name_without_diacritics_links_to_the_person(ref):
    record = extract_text(
        ref,
        "Polish Foreign Minister Radoslaw Sikorski said on Thursday that talks went well.",
        published=dt.date(2024, 4, 4),
    )
    assert officials(record) == {"radoslaw-sikorski": "Q58085"}


def test_misspelled_name_links_only_when_post_and_state_agree(ref):
    agreeing = extract_text(
        ref, "Lithuanian Defense Minister Arvydas Anaszauskas visited the border."
    )
    assert officials(agreeing) == {"arvydas-anusauskas": "Q3672207"}
    wrong_post = extract_text(
        ref, "Lithuanian Foreign Minister Arvydas Anaszauskas visited the border."
    )
    assert "arvydas-anusauskas" not in officials(wrong_post)
    assert all(qid is None for qid in officials(wrong_post).values())


def test_official_named_by_post_is_resolved_on_the_article_date(ref):
    text = "Błaszczak rozmawiał też z ministrem obrony Ukrainy na temat współpracy."
    on_date = extract_text(ref, text, "pl", dt.date(2020, 2, 12))
    assert officials(on_date)["andriy-zagorodnyuk"] == "Q66819268"
    undated = extract_text(ref, text, "pl", None)
    assert "andriy-zagorodnyuk" not in officials(undated)


def test_unknown_official_is_found_by_post_cue_without_a_qid(ref):
    record = extract_text(
        ref, "German Defence Minister Boris Pistorius said the brigade would stay."
    )
    entity = next(e for e in record.entities if e.type == "Official")
    assert (entity.label, entity.qid, entity.in_reference) == ("Boris Pistorius", None, False)
    assert (entity.post_kind, entity.state) == ("defence-minister", "DE")


@pytest.mark.parametrize("quote", ['"{}"', "“{}”", "„{}”"])
def test_direct_quote_in_every_kind_of_mark_gets_its_speaker(ref, quote):
    words = "We stand together with our allies"
    record = extract_text(
        ref,
        f"President Andrzej Duda spoke in Warsaw. {quote.format(words)}, Duda said.",
        published=dt.date(2016, 4, 22),
    )
    direct = [s for s in record.statements if s.direct]
    assert [(s.speaker, s.quote) for s in direct] == [("andrzej-duda", words)]


def test_quote_split_by_a_paragraph_break_stays_one_statement(ref):
    text = (
        'Andrzej Duda spoke. "Our position is clear: anyone in need and\n\n'
        'comes to us will be helped," he said.'
    )
    record = extract_text(ref, text, published=dt.date(2016, 4, 22))
    assert [s.quote for s in record.statements if s.direct] == [
        "Our position is clear: anyone in need and\n\ncomes to us will be helped,"
    ]


def test_polish_null_subject_attributes_to_the_last_subject_not_the_object(ref):
    text = (
        "Mariusz Błaszczak spotkał się z ministrem obrony USA Markiem Esperem. "
        '"To są ćwiczenia sojusznicze" - wyjaśnił.'
    )
    record = extract_text(ref, text, "pl", dt.date(2020, 2, 12))
    assert [s.speaker for s in record.statements if s.direct] == ["mariusz-blaszczak"]


def test_reported_speech_with_that_clause(ref):
    record = extract_text(
        ref,
        "Andrzej Duda said that Poland would support its neighbours in the region.",
        published=dt.date(2016, 4, 22),
    )
    reported = [s for s in record.statements if not s.direct]
    assert [(s.speaker, s.quote) for s in reported] == [
        ("andrzej-duda", "Poland would support its neighbours in the region.")
    ]
    assert "State:PL" in reported[0].mentions


def test_relative_weekday_resolves_against_publication_date(ref):
    record = extract_text(
        ref, "Andrzej Duda met Borut Pahor in Warsaw on Friday.", published=dt.date(2016, 4, 22)
    )
    meeting = record.meetings[0]
    assert (meeting.start, meeting.place, meeting.kind) == ("2016-04-22", "warsaw", "bilateral")


def test_two_day_ministerial_that_concluded_on_thursday(ref):
    text = (
        "Polish Foreign Minister Radoslaw Sikorski spoke during a two-day meeting of NATO foreign "
        "ministers that concluded on Thursday."
    )
    meeting = extract_text(ref, text, published=dt.date(2024, 4, 4)).meetings[0]
    assert (meeting.start, meeting.end, meeting.organizer) == ("2024-04-03", "2024-04-04", "nato")


def test_phone_call_is_not_a_meeting(ref):
    record = extract_text(
        ref,
        "Andrzej Duda held a phone call with Borut Pahor on Friday.",
        published=dt.date(2016, 4, 22),
    )
    assert record.meetings == []
    assert record.calls[0].participants == ["andrzej-duda", "borut-pahor"]


def test_page_debris_never_becomes_an_entity_or_statement(ref):
    text = (
        "back to top\nicon bookmark-bicon flagicon ruicon shareicon NATO Poland\n"
        "Share this article\n\nThe talks were held in Warsaw."
    )
    record = extract_text(ref, text)
    assert {e.key for e in record.entities} == {"warsaw"}
    assert record.statements == []


def test_evidence_offsets_point_at_the_words(ref):
    text = 'Andrzej Duda said: "We are ready," in Warsaw.'
    record = extract_text(ref, text, published=dt.date(2016, 4, 22))
    s = record.statements[0]
    assert text[s.evidence.start : s.evidence.end] == s.quote == "We are ready,"


def test_bare_surname_links_only_when_the_persons_state_is_named(ref):
    alone = extract_text(
        ref, "Błaszczak powiedział, że rozmowy były udane i konkretne.", "pl", dt.date(2020, 2, 12)
    )
    assert officials(alone) == {}
    with_state = extract_text(
        ref,
        "Błaszczak powiedział, że polscy żołnierze zostaną w Iraku na dłużej.",
        "pl",
        dt.date(2020, 2, 12),
    )
    assert officials(with_state) == {"mariusz-blaszczak": "Q1748055"}


def test_surname_re_mention_links_to_the_official_named_in_full(ref):
    text = (
        "Estonian Foreign Minister Kalle Tammsaar arrived in Riga on Monday. "
        "Tammsaar said that the region needed more air defence."
    )
    record = extract_text(ref, text, published=dt.date(2024, 5, 6))
    assert list(officials(record)) == ["kalle-tammsaar"]
    assert [s.speaker for s in record.statements] == ["kalle-tammsaar"]


def test_surname_inside_a_longer_name_is_someone_else(ref):
    text = "Estonian Foreign Minister Kalle Tammsaar met reporters. Anton Tammsaar was not there."
    entity = next(e for e in extract_text(ref, text).entities if e.type == "Official")
    assert [m.text for m in entity.mentions] == ["Kalle Tammsaar"]


def test_polish_inflected_surname_after_a_cue_joins_the_full_name(ref):
    text = (
        "Minister obrony Estonii Hanno Pevkur przyjechał do Warszawy. "
        "Wicepremier spotkał się z ministrem Pevkurem w środę."
    )
    record = extract_text(ref, text, "pl", dt.date(2024, 5, 8))
    entity = next(e for e in record.entities if e.type == "Official")
    assert (entity.key, [m.text for m in entity.mentions]) == (
        "hanno-pevkur",
        ["Hanno Pevkur", "Pevkurem"],
    )


@pytest.mark.parametrize(
    ("inflected", "nominative"),
    [
        ("Markiem Esperem", "Mark Esper"),
        ("Mateuszem Morawieckim", "Mateusz Morawiecki"),
        ("Kają Kallas", "Kaja Kallas"),
        ("Jacka Czaputowicza", "Jacek Czaputowicz"),
        ("Siergieja Ławrowa", "Siergiej Ławrow"),
        ("Gitanasem Nausėdą", "Gitanas Nausėda"),
        ("Władysława Kosiniaka-Kamysza", "Władysław Kosiniak-Kamysz"),
    ],
)
def test_polish_name_is_labelled_in_the_nominative(inflected, nominative):
    assert polish_nominative_name(inflected) == nominative


def test_unknown_official_met_in_an_oblique_case_keeps_the_nominative_label(ref):
    text = (
        "Prezydent spotkał się z premierem Estonii Kristenem Michalem. "
        "Premier Estonii Kristen Michal podziękował."
    )
    record = extract_text(ref, text, "pl", dt.date(2024, 5, 8))
    labels = [e.label for e in record.entities if e.type == "Official" and not e.in_reference]
    assert labels == ["Kristen Michal"]


def test_counterpart_after_a_named_minister_is_an_official(ref):
    text = "Estonian Foreign Minister Kalle Tammsaar met his Latvian counterpart Ilze Berzina."
    record = extract_text(ref, text, published=dt.date(2024, 5, 6))
    entity = next(e for e in record.entities if e.key == "ilze-berzina")
    assert (entity.post_kind, entity.state) == ("foreign-minister", "LV")


def test_name_in_apposition_before_a_post_is_an_official(ref):
    text = "Według Kalle Tammsaara, szefa estońskiej dyplomacji, rozmowy były trudne."
    record = extract_text(ref, text, "pl", dt.date(2024, 5, 6))
    entity = next(e for e in record.entities if e.type == "Official")
    assert (entity.label, entity.post_kind, entity.state) == (
        "Kalle Tammsaar",
        "foreign-minister",
        "EE",
    )


def test_former_holder_of_a_post_is_not_an_official(ref):
    record = extract_text(ref, "Former Prime Minister Kalle Tammsaar wrote a book about the war.")
    assert officials(record) == {}
    record = extract_text(ref, "Książkę napisał Kalle Tammsaar, były premier Estonii.", "pl")
    assert officials(record) == {}


def test_post_with_an_alliance_resolves_to_its_holder_on_the_date(ref):
    text = "Sekretarz generalny NATO podkreślił, że sojusz jest zjednoczony."
    record = extract_text(ref, text, "pl", dt.date(2023, 2, 15))
    assert list(officials(record)) == ["jens-stoltenberg"]


def test_name_after_a_portfolio_is_the_holder(ref):
    text = "Według komisarza ds. rolnictwa i rybołówstwa Henrika Lunda plan jest gotowy."
    record = extract_text(ref, text, "pl", dt.date(2025, 4, 9))
    assert [e.label for e in record.entities if e.type == "Official"] == ["Henrik Lund"]


def test_organisation_name_is_not_taken_for_a_person(ref):
    text = "Jak podało Biuro Prasowe Rządu, szefowa niemieckiego MSZ rozmawiała z premierem."
    record = extract_text(ref, text, "pl", dt.date(2024, 5, 8))
    assert all(e.label != "Biuro Prasowe Rządu" for e in record.entities)


@pytest.mark.parametrize(
    ("text", "states"),
    [
        ("Rozmowa dotyczyła polskiej prezydencji w Radzie UE.", {"PL"}),
        ("Brakuje części zamiennych do czołgów.", set()),
        ("Rozmawiano o granicy z Białorusią.", {"BY"}),
        ("Polscy żołnierze wrócili z Litwy.", {"PL", "LT"}),
    ],
)
def test_polish_case_forms_link_states_but_not_lookalike_words(ref, text, states):
    record = extract_text(ref, text, "pl", dt.date(2025, 4, 9))
    assert {e.key for e in record.entities if e.type == "State"} == states
    assert officials(record) == {}


def test_inflected_full_name_re_mention_links_to_the_official(ref):
    text = (
        "Minister obrony Estonii Hanno Pevkur przyjechał do Warszawy. "
        "Błaszczak rozmawiał z Hannem Pevkurem o obronie."
    )
    record = extract_text(ref, text, "pl", dt.date(2020, 2, 12))
    entity = next(e for e in record.entities if e.key == "hanno-pevkur")
    assert [m.text for m in entity.mentions] == ["Hanno Pevkur", "Hannem Pevkurem"]


def test_talks_on_the_sidelines_are_not_merged_into_the_ministerial(ref):
    text = (
        "Estonian Foreign Minister Kalle Tammsaar took part in the meeting of NATO foreign "
        "ministers in Brussels on Tuesday. On the margins of the meeting, Tammsaar held talks "
        "with Latvian Foreign Minister Ilze Berzina."
    )
    meetings = extract_text(ref, text, published=dt.date(2024, 4, 3)).meetings
    assert sorted(m.participants for m in meetings) == [
        ["ilze-berzina", "kalle-tammsaar"],
        ["kalle-tammsaar"],
    ]


def test_implicit_meeting_subject_must_be_of_the_state_the_post_names(ref):
    text = (
        "Andrzej Duda spoke in Warsaw on Monday. "
        "On Tuesday the Estonian defence minister met Lithuanian Defence Minister Arvydas "
        "Anušauskas."
    )
    record = extract_text(ref, text, published=dt.date(2021, 10, 20))
    assert all("andrzej-duda" not in m.participants for m in record.meetings)


def test_single_marks_quote_speech_but_not_apostrophes_or_terms(ref):
    text = (
        "Andrzej Duda spoke in Warsaw. ‘Poland’s allies will not be left alone,’ he said. "
        "He called the plan a ‘joint effort’."
    )
    record = extract_text(ref, text, published=dt.date(2016, 4, 22))
    assert [s.quote for s in record.statements if s.direct] == [
        "Poland’s allies will not be left alone,"
    ]


def test_a_quoted_name_is_not_a_statement(ref):
    text = "Prezydent Andrzej Duda chce, by baza nosiła nazwę „Fort Wolności”."
    record = extract_text(ref, text, "pl", dt.date(2018, 9, 20))
    assert [s for s in record.statements if s.direct] == []


def test_joint_statement_gives_one_statement_per_speaker(ref):
    text = (
        "Estonian Defence Minister Karl Tamm and Latvian Defence Minister Juris Ozols pledged "
        "on Monday to keep their air defence units on alert through the winter."
    )
    speakers = sorted(s for s, _ in reported(extract_text(ref, text)))
    assert speakers == ["juris-ozols", "karl-tamm"]


def test_said_followed_by_a_clause_reports_the_clause_not_the_opening(ref):
    text = "Asked about the tanks, Estonian Defence Minister Karl Tamm said no decision was taken."
    assert reported(extract_text(ref, text)) == [("karl-tamm", "no decision was taken.")]


def test_said_followed_by_an_adverbial_reports_the_clause_before_the_comma(ref):
    text = "The border stays shut for now, Estonian Defence Minister Karl Tamm said after talks."
    assert reported(extract_text(ref, text)) == [("karl-tamm", "The border stays shut for now")]


def test_speech_participle_continues_the_sentence_speaker(ref):
    text = (
        "Estonian Defence Minister Karl Tamm declined to comment on the request, saying each "
        "ally decided for itself what it sends."
    )
    assert reported(extract_text(ref, text)) == [
        ("karl-tamm", "each ally decided for itself what it sends.")
    ]


def test_said_that_a_and_that_b_are_two_statements(ref):
    text = (
        "Estonian Foreign Minister Karl Tamm said that the sanctions had worked, and that the "
        "list of officials should now grow."
    )
    assert [q for _, q in reported(extract_text(ref, text))] == [
        "the sanctions had worked",
        "the list of officials should now grow.",
    ]


def test_thanked_with_its_content_is_reported_speech(ref):
    text = "Estonian Foreign Minister Karl Tamm thanked Poland for the generators it sent."
    assert [s for s, _ in reported(extract_text(ref, text))] == ["karl-tamm"]


def test_an_office_is_not_the_speaker_of_the_words_it_passes_on(ref):
    text = (
        "Estonian President Karl Tamm met the delegation. The president's office said Tamm had "
        "thanked Poland for its solidarity with Estonia."
    )
    assert {s for s, _ in reported(extract_text(ref, text))} == {"karl-tamm"}


def test_relative_pronoun_makes_the_object_before_it_the_speaker(ref):
    text = (
        "Estonian Foreign Minister Karl Tamm spoke by phone with Latvian Foreign Minister Juris "
        "Ozols, who assured him that Riga would back the plan."
    )
    assert reported(extract_text(ref, text)) == [("juris-ozols", "Riga would back the plan.")]


def test_pronoun_after_a_post_nobody_names_is_not_the_last_official(ref):
    text = (
        "Estonian Defence Minister Karl Tamm spoke first. The German defence minister said "
        'that the Alliance must be ready. "Deterrence only works if it is believed," she said.'
    )
    record = extract_text(ref, text)
    assert [s for s in record.statements if s.direct] == []
    assert reported(record) == []


def test_polish_jak_dodal_reports_the_clause_after_the_comma(ref):
    text = (
        "Szef MSZ Estonii Karl Tamm przyjechał w środę do Wilna. Jak dodał, Estonia chce "
        "rozbudować połączenia kolejowe z Litwą."
    )
    assert reported(extract_text(ref, text, "pl")) == [
        ("karl-tamm", "Estonia chce rozbudować połączenia kolejowe z Litwą.")
    ]


def test_polish_wedlug_with_a_post_and_name_needs_no_comma(ref):
    text = "Według szefa MSZ Estonii Karla Tamma sankcje powinny objąć kolejne firmy."
    assert reported(extract_text(ref, text, "pl")) == [
        ("karl-tamm", "sankcje powinny objąć kolejne firmy.")
    ]


def test_polish_zdaniem_post_stands_for_that_states_official(ref):
    text = (
        "Minister obrony Estonii Karl Tamm rozmawiał z ministrem obrony Łotwy Jurisem Ozolsem. "
        "Zdaniem łotewskiego ministra wojska sojusznicze powinny zostać nad Bałtykiem."
    )
    assert reported(extract_text(ref, text, "pl")) == [
        ("juris-ozols", "wojska sojusznicze powinny zostać nad Bałtykiem.")
    ]


def test_polish_null_subject_after_a_quote_is_the_quotes_speaker(ref):
    text = (
        "Minister obrony Estonii Karl Tamm rozmawiał z minister obrony Łotwy Ingą Ozolą. "
        "„Granica Łotwy jest granicą Estonii” – powiedziała łotewska minister. Dodała, że "
        "Ryga chce wydawać na obronność więcej."
    )
    record = extract_text(ref, text, "pl")
    assert [(s.speaker, s.direct) for s in record.statements] == [
        ("inga-ozola", True),
        ("inga-ozola", False),
    ]


def test_quoted_fragment_inside_a_clause_keeps_the_reported_clause(ref):
    text = (
        "Rzeczniczka rosyjskiego MSZ Anna Morozowa oświadczyła, że nowa baza będzie "
        "„bezpośrednim zagrożeniem” dla Rosji."
    )
    record = extract_text(ref, text, "pl")
    # a Russian official's Polish spelling is respelt in English ("Morozowa" -> "Morozova")
    assert reported(record) == [
        ("anna-morozova", "nowa baza będzie „bezpośrednim zagrożeniem” dla Rosji.")
    ]
    assert [s.quote for s in record.statements if s.direct] == ["bezpośrednim zagrożeniem"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Kaliningrad Region Governor Ivan Sokolov said the ferries would run daily.", "governor"),
        ("Vice President Tom Harlan arrived in Warsaw on Thursday.", "vice-president"),
        ("Belarusian leader Ivan Rudak ordered new border checks.", "leader"),
    ],
)
def test_post_kinds_beyond_ministers_find_the_official(ref, text, kind):
    entity = next(e for e in extract_text(ref, text).entities if e.type == "Official")
    assert (entity.post_kind, entity.qid) == (kind, None)


def test_opposition_leader_holds_no_public_post(ref):
    record = extract_text(ref, "Opposition leader Anna Rudak met students in Vilnius.")
    assert officials(record) == {}


def test_secretary_general_belongs_to_the_one_alliance_the_article_names(ref):
    text = (
        "NATO defence ministers met in Brussels. The Secretary General told reporters that the "
        "plan would put the right forces in the right place."
    )
    record = extract_text(ref, text, published=dt.date(2021, 10, 22))
    assert officials(record) == {"jens-stoltenberg": "Q57665"}
    assert [s for s, _ in reported(record)] == ["jens-stoltenberg"]


def test_quote_inside_a_quote_is_the_inner_speakers(ref):
    text = (
        "\"When President Karl Tamm told me this morning, 'Estonia will never be left alone,' he "
        'spoke for all Allies," Latvian Foreign Minister Juris Ozols said.'
    )
    direct = {(s.speaker, s.quote) for s in extract_text(ref, text).statements if s.direct}
    assert ("karl-tamm", "Estonia will never be left alone,") in direct
    assert any(s == "juris-ozols" and q.startswith("When President") for s, q in direct)


def test_quote_reopened_in_the_next_paragraph_is_the_same_speakers(ref):
    text = (
        '"We want more troops," Latvian Defence Minister Juris Ozols said. "We will pay for them.'
        '\n\n"Latvia already spends three percent on defence."'
    )
    direct = [(s.speaker, s.quote) for s in extract_text(ref, text).statements if s.direct]
    assert direct == [
        ("juris-ozols", "We want more troops,"),
        ("juris-ozols", "We will pay for them."),
        ("juris-ozols", "Latvia already spends three percent on defence."),
    ]


def test_alliance_ending_a_sentence_is_not_the_next_sentences_post(ref):
    text = "Ties grew within the Bucharest Nine. Minister Karl Tamm thanked Poland for its help."
    record = extract_text(ref, text)
    assert "bucharest-nine" in {e.key for e in record.entities if e.type == "Alliance"}
