"""Shopify's compliance requests run as tasks: a failure is kept on a FAILED request row (and the
stored webhook) for an Admin to see, then re-raised for the worker's log."""

from django_tasks import task

from core import queues
from privacy import services
from privacy.models import PrivacyRequest, RequestKind, RequestSource, RequestStatus

KINDS = {
    "customers/data_request": RequestKind.EXPORT,
    "customers/redact": RequestKind.ERASE,
    "shop/redact": RequestKind.SHOP_REDACT,
}


# Default queue: an erasure or an archive takes seconds; Shopify allows 30 days to answer.
@task(queue_name=queues.DEFAULT)
def answer_compliance_webhook(
    *,
    topic: str,
    webhook_event_id: int,
    customer_id: int | None = None,
    shopify_request_id: str = "",
    shop_domain: str = "",
) -> int:
    try:
        if topic == "customers/data_request":
            request = services.answer_shopify_data_request(
                webhook_event_id=webhook_event_id,
                customer_id=customer_id,
                shopify_request_id=shopify_request_id,
            )
        elif topic == "customers/redact":
            request = services.answer_shopify_redact(
                webhook_event_id=webhook_event_id, customer_id=customer_id
            )
        else:
            request = services.forget_shop(
                webhook_event_id=webhook_event_id, shop_domain=shop_domain
            )
    except Exception as exc:  # recorded for the privacy page, then re-raised
        PrivacyRequest.objects.create(
            kind=KINDS[topic],
            source=RequestSource.SHOPIFY,
            customer_id=customer_id,
            webhook_event_id=webhook_event_id,
            status=RequestStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise
    return request.pk
