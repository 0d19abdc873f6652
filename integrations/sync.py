"""Background syncs of Shopify and PERP customer/order data into the helpdesk's customers.

`customers` walks every helpdesk customer with an email or phone: it links unmatched ones and
refreshes the stored snapshot. `orders` refreshes only customers already linked. Each run writes a
ShopifySyncLog/PerpSyncLog row: started, finished, counts and errors. A provider outage or a
refused key stops the run (every further call would fail the same way); a problem with a single
customer is counted in `items_failed` and the run goes on.
"""

import logging
from collections.abc import Callable

from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from analytics.services import record_event
from core.errors import ApplicationError
from integrations.context_refresh import refresh_perp_section, refresh_shopify_section
from integrations.models import PerpSyncLog, ShopifySyncLog, SyncStatus
from integrations.perp.client import PerpClient
from integrations.selectors import SectionStatus
from integrations.shopify.client import ShopifyClient
from tickets.models import Customer, IdentityKind

logger = logging.getLogger(__name__)

RESOURCES = ("customers", "orders")
ABORT_CODES = {"unavailable", "throttled", "auth_failed", "not_configured"}
Progress = Callable[[int, int], None]

PROVIDERS = {
    "shopify": (
        ShopifySyncLog,
        "shopify_customer_id",
        refresh_shopify_section,
        ShopifyClient.is_configured,
    ),
    "perp": (PerpSyncLog, "perp_customer_id", refresh_perp_section, PerpClient.is_configured),
}


def _candidates(*, provider: str, resource: str):
    id_field = PROVIDERS[provider][1]
    customers = Customer.objects.filter(merged_into__isnull=True).prefetch_related("identities")
    if resource == "orders":
        return customers.exclude(**{id_field: ""}).order_by("pk")
    reachable = Q(
        identities__kind__in=[IdentityKind.EMAIL, IdentityKind.PHONE, IdentityKind.WHATSAPP]
    )
    return customers.filter(reachable | ~Q(**{id_field: ""})).distinct().order_by("pk")


def run_sync(
    *,
    provider: str,
    resource: str,
    triggered_by: User | None = None,
    progress: Progress | None = None,
):
    """Sync `resource` ("customers" or "orders") from `provider` ("shopify" or "perp")."""
    if provider not in PROVIDERS or resource not in RESOURCES:
        raise ApplicationError(f"Cannot sync {provider} {resource}.", code="invalid_sync")
    log_model, id_field, refresh, is_configured = PROVIDERS[provider]
    log = log_model.objects.create(resource=resource, triggered_by=triggered_by)
    errors: list[str] = []
    try:
        if not is_configured():
            raise SyncAborted(f"{provider} is not configured.")
        customers = list(_candidates(provider=provider, resource=resource))
        for done, customer in enumerate(customers, start=1):
            before_id = getattr(customer, id_field)
            before = (customer.external_data or {}).get(provider, {}).get("data")
            # Background work can afford the full retry policy and longer timeouts.
            state = refresh(customer, is_interactive=False)
            log.items_seen += 1
            if state.status == SectionStatus.ERROR:
                if state.error_code in ABORT_CODES:
                    raise SyncAborted(state.error)
                log.items_failed += 1
                errors.append(f"customer {customer.pk}: {state.error}")
            elif state.status == SectionStatus.OK:
                if not before_id:
                    log.items_created += 1
                elif customer.external_data.get(provider, {}).get("data") != before:
                    log.items_updated += 1
            if progress is not None:
                progress(done, len(customers))
        log.status = SyncStatus.SUCCEEDED
    except SyncAborted as exc:
        log.status = SyncStatus.FAILED
        errors.insert(0, f"Stopped: {exc}")
        logger.warning("%s.sync.failed resource=%s error=%s", provider, resource, exc)
    log.error = "\n".join(errors)[:5000]
    log.finished_at = timezone.now()
    log.save()
    record_event(
        name=f"{provider}.synced",
        actor=triggered_by,
        subject=log,
        properties={
            "resource": resource,
            "status": log.status,
            "seen": log.items_seen,
            "created": log.items_created,
            "updated": log.items_updated,
            "failed": log.items_failed,
        },
    )
    return log


class SyncAborted(Exception):
    pass


def test_provider_connections() -> list[dict[str, str | bool | int]]:
    """One line per provider for the admin: configured?, reachable?, detail, latency."""
    results = []
    for name, client_class in (("Shopify", ShopifyClient), ("PERP", PerpClient)):
        if not client_class.is_configured():
            results.append({"provider": name, "ok": False, "detail": "Not configured."})
            continue
        check = client_class.from_settings().test_connection()
        results.append(
            {
                "provider": name,
                "ok": check.ok,
                "detail": check.detail,
                "latency_ms": check.latency_ms,
            }
        )
    return results
