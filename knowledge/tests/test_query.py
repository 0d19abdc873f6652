"""Customer messages cleaned into search queries (knowledge.query)."""

from knowledge.query import clean_query


def test_greeting_order_number_quantity_and_deadline_are_removed():
    query = clean_query("Hi! re order #4512, need 250 business cards by friday, thx")
    assert query.text == "need business cards"
    assert query.terms == ("business", "cards")


def test_dates_in_several_spellings_are_removed():
    text = clean_query("Good morning, 200 polos before the 15th of March, ship 6/30 or next week")
    assert text.text == "polos, ship"
    assert "march" not in clean_query("wedding on June 14, invites").terms


def test_sizes_and_materials_stay_as_keyword_signals():
    query = clean_query("order PD-1042: same vinyl banner again but 3x6 ft, 13oz please")
    assert "pd" not in query.terms and "1042" not in query.terms
    assert {"vinyl", "banner", "3x6", "ft", "13oz"} <= set(query.terms)


def test_a_message_of_only_noise_keeps_its_words():
    assert clean_query("hi").terms == ("hi",)
