"""Privacy requests (docs/privacy.md): export a customer's data, erase it, forget a shop.

Each app erases its own rows through its own service; this module only orchestrates them in one
transaction (all or nothing), records the request, the audit row and the Managers notice.
"""

import hashlib
import io
import json
import logging
import secrets
import zipfile
from functools import partial

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.audit import record_audit, redact_audit_mentions
from accounts.models import User
from accounts.permissions import Action, require
from accounts.services import get_automation_actor
from analytics.selectors import list_customer_csat_answers
from analytics.services import redact_customer_analytics
from automation.services import redact_automation_mentions
from comms.services import (
    erase_shared_ticket_files,
    post_system_message,
    redact_chat_mentions,
)
from core.errors import ApplicationError, Conflict
from core.redaction import expand_needles
from integrations.selectors import get_compliance_person
from integrations.services import (
    redact_provider_webhooks,
    redact_stored_webhooks,
    redact_web_conversations,
)
from knowledge.services import forget_suggestion_questions
from printshop.services import redact_ticket_proofs
from privacy.models import PrivacyRequest, RequestKind, RequestSource, RequestStatus
from privacy.selectors import ERASE_CUSTOMER
from tickets.erasure import erase_customer_records, forget_provider_data
from tickets.models import Customer
from tickets.selectors import get_customer_personal_data

logger = logging.getLogger(__name__)


MANAGERS_CHANNEL = "managers"
ARCHIVE_README = """This archive holds the personal data Printdesk stores about one customer:
customer.json has the profile, the ways to reach them (identities), every ticket with its
messages (attachments are listed by name, size and type), and their satisfaction-survey answers.
"""


def request_url(request: PrivacyRequest) -> str:
    return f"/privacy/requests/{request.pk}/"


def _announce(request: PrivacyRequest, text: str) -> None:
    """Managers hear of every request in #managers; the notice names ids, never the person."""
    try:
        post_system_message(
            channel_slug=MANAGERS_CHANNEL,
            author=get_automation_actor(),
            body=f"{text} {request_url(request)}",
        )
    except ApplicationError as exc:
        logger.warning("privacy.managers_notice_failed request=%s %s", request.pk, exc)


# Export ----------------------------------------------------------------------------------------


def build_archive(*, customer: Customer) -> bytes:
    data = get_customer_personal_data(customer=customer)
    customer_ids = [customer.pk, *data["profile"]["merged_customer_ids"]]
    data["csat"] = list_customer_csat_answers(customer_ids=customer_ids)
    data["generated_at"] = timezone.now().isoformat()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("customer.json", json.dumps(data, indent=2, ensure_ascii=False))
        archive.writestr("README.txt", ARCHIVE_README)
    return buffer.getvalue()


def export_customer_data(
    *,
    customer: Customer,
    actor: User | None,
    source: str = RequestSource.STAFF,
    webhook_event_id: int | None = None,
    shopify_request_id: str = "",
) -> PrivacyRequest:
    """Build the customer's archive for download by staff who may export personal data."""
    if actor is not None:
        require(actor, Action.EXPORT_CUSTOMERS)
    if customer.erased_at is not None:
        raise Conflict("This customer's data was erased.", code="customer_erased")
    content = build_archive(customer=customer)
    # A random name: the media folder may be served by the web server, the download is not.
    name = default_storage.save(
        f"privacy/export-{secrets.token_urlsafe(24)}.zip", ContentFile(content)
    )
    try:
        with transaction.atomic():
            request = PrivacyRequest(
                kind=RequestKind.EXPORT,
                source=source,
                customer=customer,
                requested_by=actor,
                webhook_event_id=webhook_event_id,
                shopify_request_id=shopify_request_id[:64],
                archive=name,
                archive_sha256=hashlib.sha256(content).hexdigest(),
                summary={"bytes": len(content)},
                status=RequestStatus.COMPLETED,
                completed_at=timezone.now(),
            )
            request.save()
            record_audit(
                action="privacy.export_created",
                actor=actor,
                target=request,
                details={"customer_id": customer.pk, "source": source, "bytes": len(content)},
            )
            transaction.on_commit(
                partial(
                    _announce,
                    request,
                    f"Customer data export #{request.pk} for customer {customer.pk} is ready "
                    f"({request.get_source_display()}).",
                ),
                robust=True,
            )
    except BaseException:
        default_storage.delete(name)
        raise
    return request


# Erasure ---------------------------------------------------------------------------------------


@transaction.atomic
def erase_customer(
    *,
    customer: Customer | None,
    actor: User | None,
    source: str = RequestSource.STAFF,
    webhook_event_id: int | None = None,
    extra_values: list[str] = (),
) -> PrivacyRequest:
    """Erase or irreversibly anonymise everything personal about the customer in every app,
    keeping the non-personal aggregates (ticket counts, channels, timings, CSAT scores).

    Idempotent: a second run finds nothing left to change. Without a customer (a Shopify request
    for someone we never matched) only copies of `extra_values` are searched for and masked.
    """
    if actor is not None:
        require(actor, ERASE_CUSTOMER)
    summary: dict[str, int] = {}
    needles = list(extra_values)
    if customer is not None:
        erased = erase_customer_records(customer=customer, extra_needles=list(extra_values))
        needles = erased.needles
        summary.update(
            customers=len(erased.customer_ids),
            tickets=len(erased.ticket_ids),
            messages=erased.message_count,
            attachments=erased.attachment_count,
            analytics_rows=redact_customer_analytics(
                customer_ids=erased.customer_ids, ticket_ids=erased.ticket_ids, needles=needles
            ),
            proofs=redact_ticket_proofs(ticket_ids=erased.ticket_ids),
            shared_chat_files=erase_shared_ticket_files(ticket_ids=erased.ticket_ids),
            web_chats=redact_web_conversations(ticket_ids=erased.ticket_ids),
            suggestion_questions=forget_suggestion_questions(ticket_ids=erased.ticket_ids),
            exports_deleted=_delete_exports(customer_ids=erased.customer_ids),
        )
    needles = needles or expand_needles(extra_values)
    summary.update(
        chat_rows=redact_chat_mentions(needles=needles),
        automation_rows=redact_automation_mentions(needles=needles),
        webhooks=redact_stored_webhooks(needles=needles),
        audit_rows=redact_audit_mentions(needles=needles),
    )
    request = PrivacyRequest.objects.create(
        kind=RequestKind.ERASE,
        source=source,
        customer=customer,
        requested_by=actor,
        webhook_event_id=webhook_event_id,
        summary=summary,
        status=RequestStatus.COMPLETED,
        completed_at=timezone.now(),
    )
    record_audit(
        action="privacy.customer_erased",
        actor=actor,
        target=request,
        details={"customer_id": customer.pk if customer else None, "source": source, **summary},
    )
    who = f"customer {customer.pk}" if customer is not None else "a customer we never matched"
    transaction.on_commit(
        partial(
            _announce,
            request,
            f"Personal data of {who} was erased ({request.get_source_display()}).",
        ),
        robust=True,
    )
    return request


def _delete_exports(*, customer_ids: list[int]) -> int:
    exports = PrivacyRequest.objects.filter(
        customer_id__in=customer_ids, kind=RequestKind.EXPORT
    ).exclude(archive="")
    names = list(exports.values_list("archive", flat=True))
    for name in names:
        transaction.on_commit(partial(default_storage.delete, name), robust=True)
    exports.update(archive="", archive_sha256="")
    return len(names)


@transaction.atomic
def forget_shop(*, webhook_event_id: int | None, shop_domain: str) -> PrivacyRequest:
    """shop/redact, 48 h after uninstall: what came from Shopify goes (customer links and
    snapshots, stored webhook bodies); tickets, which customers wrote to the shop through its own
    channels, and the public product catalog stay (docs/privacy.md)."""
    summary = {
        "customers_unlinked": forget_provider_data(provider="shopify"),
        "webhooks": redact_provider_webhooks(provider="shopify"),
    }
    request = PrivacyRequest.objects.create(
        kind=RequestKind.SHOP_REDACT,
        source=RequestSource.SHOPIFY,
        webhook_event_id=webhook_event_id,
        summary=summary,
        status=RequestStatus.COMPLETED,
        completed_at=timezone.now(),
    )
    record_audit(
        action="privacy.shop_redacted",
        target=request,
        actor_repr="shopify",
        details={"shop_domain": shop_domain[:255], **summary},
    )
    transaction.on_commit(
        partial(_announce, request, "Shopify asked to remove the shop's data (shop/redact)."),
        robust=True,
    )
    return request


# Shopify compliance webhooks -------------------------------------------------------------------


def answer_shopify_data_request(
    *, webhook_event_id: int, customer_id: int | None, shopify_request_id: str
) -> PrivacyRequest:
    customer = Customer.objects.filter(pk=customer_id).first() if customer_id else None
    if customer is None or customer.erased_at is not None:
        request = PrivacyRequest.objects.create(
            kind=RequestKind.EXPORT,
            source=RequestSource.SHOPIFY,
            webhook_event_id=webhook_event_id,
            shopify_request_id=shopify_request_id[:64],
            summary={"matched": False},
            status=RequestStatus.COMPLETED,
            completed_at=timezone.now(),
        )
        record_audit(action="privacy.export_nothing_held", target=request, actor_repr="shopify")
        transaction.on_commit(
            partial(_announce, request, "Shopify data request: we hold nothing for that customer."),
            robust=True,
        )
        return request
    return export_customer_data(
        customer=customer,
        actor=None,
        source=RequestSource.SHOPIFY,
        webhook_event_id=webhook_event_id,
        shopify_request_id=shopify_request_id,
    )


def answer_shopify_redact(*, webhook_event_id: int, customer_id: int | None) -> PrivacyRequest:
    customer = Customer.objects.filter(pk=customer_id).first() if customer_id else None
    return erase_customer(
        customer=customer,
        actor=None,
        source=RequestSource.SHOPIFY,
        webhook_event_id=webhook_event_id,
        extra_values=get_compliance_person(webhook_event_id=webhook_event_id),
    )
