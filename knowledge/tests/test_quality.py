"""The evaluation set stays well-formed, and a slice of it runs so the harness cannot rot."""

import json

import pytest
from django.core.management import call_command

from knowledge import evaluation, services
from knowledge.query import words
from knowledge.tests.factories import CATALOG_PATH, load_demo_catalog

pytestmark = pytest.mark.django_db


def _stems(text: str) -> set[str]:
    # Crude stemming, enough to catch "stickers"/"sticker" or "hanging"/"hang" overlaps.
    return {w[:5] for w in words(text) if len(w) > 2}


def test_the_set_has_enough_questions_of_each_kind_with_active_answers():
    questions = evaluation.load_questions()
    catalog = {p["handle"]: p for p in json.loads(CATALOG_PATH.read_text())["products"]}
    assert len(questions) >= 100
    assert {q.kind for q in questions} == set(evaluation.KINDS)
    assert len({q.id for q in questions}) == len(questions)
    for question in questions:
        assert question.handles, question
        for handle in question.handles:
            assert catalog[handle]["status"] == "active", (question.id, handle)


def test_meaning_questions_share_no_key_word_with_their_answers():
    catalog = {p["handle"]: p for p in json.loads(CATALOG_PATH.read_text())["products"]}
    ignored = _stems("the and for our with that your something need want thing what")
    for question in evaluation.load_questions():
        if question.kind != "meaning":
            continue
        for handle in question.handles:
            product = catalog[handle]
            key = " ".join([product["title"], product["product_type"], product["tags"]])
            shared = (_stems(question.question) & _stems(key)) - ignored
            assert not shared, (question.id, handle, shared)


def test_lexical_slice_of_the_set(capsys):
    services.import_products(products=load_demo_catalog())
    call_command("search_quality", "--modes", "lexical", "--limit", "8", "--json")
    report = json.loads(capsys.readouterr().out)["report"]["lexical"]
    assert report["all"]["count"] == 24
    assert report["keyword"]["recall_at_3"] == 1.0
    assert report["order"]["recall_at_3"] >= 0.75
