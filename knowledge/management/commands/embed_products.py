"""Compute missing or stale product embeddings now, without a task worker (needs the ML extra)."""

import time

from django.core.management.base import BaseCommand, CommandError

from knowledge import embeddings
from knowledge.services import embed_products


class Command(BaseCommand):
    help = "Embed every product whose text changed since its last embedding."

    def handle(self, *args, **options):
        if not embeddings.is_available():
            raise CommandError("The ML extra is not installed: run `make install-ml`.")
        started = time.monotonic()
        embeddings.get_model()
        loaded = time.monotonic()
        count = embed_products()
        self.stdout.write(
            f"Embedded {count} products (model load {loaded - started:.1f}s, "
            f"embedding {time.monotonic() - loaded:.1f}s)."
        )
