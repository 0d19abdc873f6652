"""Print recall@1/@3 of product search per mode and question kind on the evaluation set.

manage.py search_quality --load-catalog             # into a scratch database (bench does)
manage.py search_quality --recorded                 # plus pairs agents recorded here
manage.py search_quality --tune                     # hybrid recall per lexical weight
"""

import json
import time
from dataclasses import replace
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from integrations.shopify.types import ShopifyProduct
from knowledge import embeddings, evaluation, ranking
from knowledge.services import embed_products, upsert_products

CATALOG = Path(__file__).resolve().parents[3] / "fixtures" / "shopify-products.json"
TUNE_LEXICAL = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0)


class Command(BaseCommand):
    help = "Recall@1/@3 of product search per mode and question kind (knowledge/eval)."

    def add_arguments(self, parser):
        parser.add_argument("--load-catalog", action="store_true", help="import fixtures/ first")
        parser.add_argument("--modes", default="lexical,semantic,hybrid")
        parser.add_argument("--recorded", action="store_true", help="add recorded agent pairs")
        parser.add_argument("--limit", type=int, help="only the first N questions of each kind")
        parser.add_argument("--embedding-cache", type=Path, help="SQLite file of vectors")
        parser.add_argument("--tune", action="store_true", help="hybrid recall per lexical weight")
        parser.add_argument("--json", action="store_true", help="one JSON line, for bench")

    def handle(self, *args, **options):
        modes = [m.strip() for m in options["modes"].split(",") if m.strip()]
        if not embeddings.is_available():
            modes = [m for m in modes if m == "lexical"]
        if options["embedding_cache"]:
            embeddings.use_disk_cache(options["embedding_cache"])
        started = time.monotonic()
        if options["load_catalog"]:
            data = json.loads(CATALOG.read_text())["products"]
            upsert_products(products=[ShopifyProduct.from_rest(item) for item in data])
            if embeddings.is_available():
                embed_products()
        loaded = time.monotonic()
        questions = evaluation.load_questions()
        if options["limit"]:
            per_kind: dict[str, int] = {}
            questions = [
                q
                for q in questions
                if per_kind.setdefault(q.kind, 0) < options["limit"]
                and not per_kind.update({q.kind: per_kind[q.kind] + 1})
            ]
        if options["recorded"]:
            questions += evaluation.recorded_questions()
        if not questions:
            raise CommandError("No questions to evaluate.")
        if options["tune"]:
            self._tune(questions)
            return
        report = evaluation.evaluate(questions=questions, modes=modes)
        if options["json"]:
            out = {
                "load_seconds": round(loaded - started, 1),
                "eval_seconds": round(time.monotonic() - loaded, 1),
                "weights": ranking.DEFAULT_WEIGHTS.__dict__,
                "report": evaluation.as_json(report),
            }
            self.stdout.write(json.dumps(out))
            return
        self.stdout.write(evaluation.format_report(report))

    def _tune(self, questions):
        if not embeddings.is_available():
            raise CommandError("Tuning the hybrid weight needs the ML extra.")
        self.stdout.write("| lexical weight | all @1 | all @3 | meaning @3 | keyword @3 |")
        self.stdout.write("|---|---|---|---|---|")
        for weight in TUNE_LEXICAL:
            weights = replace(ranking.DEFAULT_WEIGHTS, lexical=weight)
            by_kind = evaluation.evaluate(questions=questions, modes=["hybrid"], weights=weights)
            by_kind = by_kind["hybrid"]
            cells = [
                f"{by_kind['all'].recall_at_1:.2f}",
                f"{by_kind['all'].recall_at_3:.2f}",
                f"{by_kind['meaning'].recall_at_3:.2f}" if "meaning" in by_kind else "-",
                f"{by_kind['keyword'].recall_at_3:.2f}" if "keyword" in by_kind else "-",
            ]
            self.stdout.write(f"| {weight} | " + " | ".join(cells) + " |")
