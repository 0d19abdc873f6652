"""Privacy reads shared by the pages."""

from django.db.models import QuerySet

from accounts.models import User
from accounts.permissions import Action, can, require
from core.errors import NotFound, PermissionDenied
from privacy.models import PrivacyRequest

ERASE_CUSTOMER = "privacy.erase_customer"


def can_see_requests(user: User) -> bool:
    return can(user, Action.EXPORT_CUSTOMERS) or can(user, ERASE_CUSTOMER)


def list_requests(*, user: User, customer_id: int | None = None) -> QuerySet[PrivacyRequest]:
    if not can_see_requests(user):
        raise PermissionDenied("You do not have permission to do that.")
    requests = PrivacyRequest.objects.select_related("requested_by")
    if customer_id is not None:
        requests = requests.filter(customer_id=customer_id)
    return requests


def get_request(*, user: User, request_id: int) -> PrivacyRequest:
    request = list_requests(user=user).filter(pk=request_id).first()
    if request is None:
        raise NotFound("No such privacy request.", code="privacy_request_not_found")
    return request


def get_archive(*, user: User, request_id: int) -> PrivacyRequest:
    """The export whose archive `user` may download (personal data: export permission)."""
    require(user, Action.EXPORT_CUSTOMERS)
    request = get_request(user=user, request_id=request_id)
    if not request.archive:
        raise NotFound("This archive is gone (the customer was erased).", code="archive_gone")
    return request
