"""Search quality on the evaluation set: recall@1 and @3 per mode and question kind.

The set (knowledge/eval/questions.json) is questions written the way customers write, each with
the catalog handles that answer it, in three kinds: `keyword` (shares a key word with the
product), `meaning` (shares none of the product's title, type or tag words) and `order`
(order-level wording: greetings, quantities, deadlines, order numbers). Questions agents answered
by inserting a suggestion can be added as a fourth kind, `recorded`.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from knowledge import ranking
from knowledge.models import ProductKnowledge, SuggestionUse
from knowledge.query import clean_query

QUESTIONS_PATH = Path(__file__).resolve().parent / "eval" / "questions.json"
KINDS = ("keyword", "meaning", "order")
ALL = "all"


@dataclass(frozen=True)
class Question:
    id: int
    kind: str
    question: str
    handles: tuple[str, ...]


@dataclass
class Recall:
    count: int = 0
    at1: int = 0
    at3: int = 0
    misses: list[int] = field(default_factory=list)

    def add(self, ranked: list[str], question: Question) -> None:
        self.count += 1
        self.at1 += bool(ranked[:1] and ranked[0] in question.handles)
        is_hit = any(handle in question.handles for handle in ranked[:3])
        self.at3 += is_hit
        if not is_hit:
            self.misses.append(question.id)

    @property
    def recall_at_1(self) -> float:
        return self.at1 / self.count if self.count else 0.0

    @property
    def recall_at_3(self) -> float:
        return self.at3 / self.count if self.count else 0.0


def load_questions(path: Path = QUESTIONS_PATH) -> list[Question]:
    data = json.loads(path.read_text())
    return [
        Question(id=q["id"], kind=q["kind"], question=q["question"], handles=tuple(q["handles"]))
        for q in data["questions"]
    ]


def recorded_questions() -> list[Question]:
    """Pairs agents recorded by inserting a suggestion, as questions of kind `recorded`."""
    return [
        Question(id=-use.pk, kind="recorded", question=use.question, handles=(use.product.handle,))
        for use in SuggestionUse.objects.select_related("product").order_by("pk")
    ]


def evaluate(
    *,
    questions: list[Question],
    modes: list[str],
    weights: ranking.Weights = ranking.DEFAULT_WEIGHTS,
) -> dict[str, dict[str, Recall]]:
    """{mode: {kind: Recall, "all": Recall}} over the products in the current database."""
    handles = dict(ProductKnowledge.objects.values_list("pk", "handle"))
    report: dict[str, dict[str, Recall]] = {}
    for mode in modes:
        by_kind: dict[str, Recall] = {ALL: Recall()}
        for question in questions:
            scores = ranking.rank(clean_query(question.question), mode=mode, weights=weights)
            top = sorted(scores, key=lambda pk: (-scores[pk], pk))[:3]
            ranked = [handles[pk] for pk in top]
            by_kind.setdefault(question.kind, Recall()).add(ranked, question)
            by_kind[ALL].add(ranked, question)
        report[mode] = by_kind
    return report


def format_report(report: dict[str, dict[str, Recall]]) -> str:
    """A Markdown table: one row per mode, recall@1 / recall@3 per kind."""
    kinds = [ALL, *sorted({k for by_kind in report.values() for k in by_kind} - {ALL})]
    header = "| mode | " + " | ".join(f"{k} @1 | {k} @3" for k in kinds) + " |"
    lines = [header, "|" + "---|" * (1 + 2 * len(kinds))]
    for mode, by_kind in report.items():
        cells = []
        for kind in kinds:
            recall = by_kind.get(kind, Recall())
            cells += [f"{recall.recall_at_1:.2f}", f"{recall.recall_at_3:.2f}"]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    counts = ", ".join(f"{k} {report[next(iter(report))][k].count}" for k in kinds)
    return "\n".join(lines) + f"\n\nQuestions: {counts}."


def as_json(report: dict[str, dict[str, Recall]]) -> dict:
    return {
        mode: {
            kind: {
                "count": r.count,
                "recall_at_1": round(r.recall_at_1, 4),
                "recall_at_3": round(r.recall_at_3, 4),
                "misses": r.misses,
            }
            for kind, r in by_kind.items()
        }
        for mode, by_kind in report.items()
    }
