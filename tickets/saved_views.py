"""Saved inbox views: a named filter combination, personal or shared with all staff."""

from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.permissions import Action, can, require
from core.errors import ApplicationError, PermissionDenied
from tickets.models import SavedView
from tickets.selectors import InboxFilters, get_saved_view


@transaction.atomic
def create_saved_view(
    *, actor: User, name: str, filters: InboxFilters, is_shared: bool = False
) -> SavedView:
    require(actor, Action.VIEW_TICKETS)
    name = name.strip()
    if not name:
        raise ApplicationError("Name the view.", code="invalid", fields={"name": ["Required."]})
    stored = {
        key: value
        for key, value in vars(filters).items()
        if value not in ("", None) and not (key == "sort" and value == "-updated")
    }
    view = SavedView(name=name[:80], owner=actor, is_shared=is_shared, filters=stored)
    view.full_clean(exclude=["owner"], validate_constraints=False)
    try:
        with transaction.atomic():
            view.save()
    except IntegrityError as exc:
        raise ApplicationError(
            "You already have a view with that name.",
            code="duplicate",
            fields={"name": ["Already used."]},
        ) from exc
    return view


@transaction.atomic
def delete_saved_view(*, actor: User, saved_view_id: int) -> None:
    """The owner deletes a view; a shared one may also go by someone who assigns tickets."""
    view = get_saved_view(user=actor, saved_view_id=saved_view_id)
    if view.owner_id != actor.pk and not can(actor, Action.ASSIGN_TICKET):
        raise PermissionDenied("Only its owner or a manager may delete this view.")
    view.delete()
