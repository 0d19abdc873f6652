"""The proof card in the storefront widget (docs/channels.md "Web chat"): the visitor's proofs
and their Approve / Request changes, under the widget's own rules (the shop's origins, the
per-address limit, the visitor token; integrations.webchat.views.widget_endpoint). A decision
goes through the public proof page's service, so validation, finality, audit and the PERP
write-back are the same.
"""

from django.http import HttpRequest, JsonResponse

from core.errors import ApplicationError
from core.ratelimit import client_ip
from integrations.models import WebChatInbox
from integrations.webchat.views import json_body, visitor_from_request, widget_endpoint
from printshop import selectors, services


@widget_endpoint
def widget_proofs(request: HttpRequest, inbox: WebChatInbox) -> JsonResponse:
    """GET: the cards of the proofs sent on the visitor's conversations."""
    if request.method != "GET":
        raise ApplicationError("Use GET.", code="method_not_allowed", status=405)
    visitor = visitor_from_request(request, inbox)
    proofs = selectors.list_visitor_proofs(visitor=visitor)
    return JsonResponse({"proofs": [selectors.proof_card(proof) for proof in proofs]})


@widget_endpoint
def widget_proof_decision(request: HttpRequest, inbox: WebChatInbox, proof_id: int) -> JsonResponse:
    """POST `{"decision": "approved" | "changes_requested", "comment": …}`: the decided card;
    409 when the proof already has a decision or a newer version, 410 when it expired."""
    if request.method != "POST":
        raise ApplicationError("Use POST.", code="method_not_allowed", status=405)
    data = json_body(request)
    proof = services.decide_proof_in_web_chat(
        visitor=visitor_from_request(request, inbox),
        proof_id=proof_id,
        decision=str(data.get("decision", "")),
        comment=str(data.get("comment", "")),
        ip=client_ip(request),
    )
    return JsonResponse({"proof": selectors.proof_card(proof)})
