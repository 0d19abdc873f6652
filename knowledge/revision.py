"""The product search's data revision: `knowledge.ranking` keeps its vocabulary, passage matrix
and learned examples in memory per process and rebuilds them when this revision moves, so each
search reads one row instead of aggregating the catalog (50 ms at 10k products under load).

Every write they depend on bumps it, in the writer's transaction, so a process sees the new
revision exactly when it sees the new rows: saves and deletes through the model signals below
(services, Django admin, cascades), `update()` and bulk writes explicitly in knowledge.services.
"""

from django.db.models import F
from django.db.models.signals import post_delete, post_save

from knowledge.models import ProductKnowledge, ProductNote, SearchRevision, SuggestionUse

ROW = 1


def current() -> tuple[int, int]:
    """(catalog, examples): what the search's in-memory indexes were built from."""
    return SearchRevision.objects.filter(pk=ROW).values_list("catalog", "examples").first() or (
        0,
        0,
    )


def bump(*, catalog: bool = False, examples: bool = False) -> None:
    changes = {}
    if catalog:
        changes["catalog"] = F("catalog") + 1
    if examples:
        changes["examples"] = F("examples") + 1
    if not SearchRevision.objects.filter(pk=ROW).update(**changes):
        # The row is made by migration 0009; a flushed test database starts without it.
        SearchRevision.objects.get_or_create(pk=ROW)
        SearchRevision.objects.filter(pk=ROW).update(**changes)


def _catalog_written(**kwargs) -> None:
    bump(catalog=True)


def _examples_written(**kwargs) -> None:
    bump(examples=True)


def register() -> None:
    for model in (ProductKnowledge, ProductNote):
        post_save.connect(_catalog_written, sender=model, dispatch_uid=f"revision-{model.__name__}")
        post_delete.connect(
            _catalog_written, sender=model, dispatch_uid=f"revision-del-{model.__name__}"
        )
    post_save.connect(_examples_written, sender=SuggestionUse, dispatch_uid="revision-use")
    post_delete.connect(_examples_written, sender=SuggestionUse, dispatch_uid="revision-del-use")
