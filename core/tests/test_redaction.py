from core.redaction import ERASED, expand_needles, mask_json, mask_text


def test_needles_cover_stored_forms_and_drop_short_words():
    assert set(expand_needles(["+15556251199", "Jo", "Zoë"])) == {
        "+15556251199",
        "15556251199",
        "Zoë",
        "Zo\\u00eb",
    }


def test_names_mask_whole_words_and_addresses_anywhere():
    needles = expand_needles(["Ann", "ann.lee@example.org"])
    text = "Ann wrote from ANN.LEE@example.org about the Announcement"
    assert mask_text(text, needles) == f"{ERASED} wrote from {ERASED} about the Announcement"


def test_json_masks_keys_and_nested_values():
    value = {"to": ["ann.lee@example.org"], "ann.lee@example.org": 1, "n": 2}
    assert mask_json(value, ["ann.lee@example.org"]) == {"to": [ERASED], ERASED: 1, "n": 2}
