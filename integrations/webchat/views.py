"""HTTP side of the storefront widget: the script, its settings, the visitor token, and the
message polling fallback (the live path is the socket, integrations/webchat/consumers.py).

Cross-origin by design: the widget runs on the shop's pages. Every call but the script must
come from one of the inbox's configured origins (CORS answers name that origin only), is limited
per client address and carries the visitor token in `X-Widget-Token`. No cookie is read, so
there is nothing for CSRF to protect (the views are exempt); the token is the credential.
"""

import json
from collections.abc import Callable, Mapping
from functools import wraps

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from core.decorators import staff_page
from core.errors import ApplicationError
from core.ratelimit import client_ip, parse_rate, rate_limited
from integrations.models import WebChatInbox
from integrations.webchat import identity, selectors, services
from tickets.selectors import get_ticket_for_user

TOKEN_HEADER = "X-Widget-Token"
ALLOWED_HEADERS = f"Content-Type, {TOKEN_HEADER}"


def _json_error(exc: ApplicationError) -> JsonResponse:
    body = {"detail": exc.message, "code": exc.code}
    if exc.fields:
        body["fields"] = exc.fields
    return JsonResponse(body, status=exc.status)


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


def widget_endpoint(view: Callable) -> Callable:
    """Resolve the inbox, refuse a foreign Origin and a flooding address, answer the CORS
    preflight, and turn application errors into JSON with the CORS headers."""

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, key: str, *args, **kwargs) -> HttpResponse:
        origin = request.headers.get("Origin", "")
        try:
            inbox = selectors.get_inbox(key=key)
        except ApplicationError as exc:
            return _json_error(exc)
        if not selectors.origin_allowed(inbox=inbox, origin=origin):
            return _json_error(
                ApplicationError(
                    "This page's origin may not use the chat widget.",
                    code="origin_refused",
                    status=403,
                )
            )
        if request.method == "OPTIONS":
            return _cors(HttpResponse(status=204), origin)
        if rate_limited(key=f"webchat:ip:{client_ip(request)}", rate=settings.WEBCHAT_IP_RATE):
            response = _json_error(
                ApplicationError("Too many requests; wait a minute.", code="throttled", status=429)
            )
            response["Retry-After"] = str(parse_rate(settings.WEBCHAT_IP_RATE)[1])
            return _cors(response, origin)
        try:
            response = view(request, inbox, *args, **kwargs)
        except ApplicationError as exc:
            response = _json_error(exc)
        return _cors(response, origin)

    return wrapper


def visitor_from_request(
    request: HttpRequest, inbox: WebChatInbox, data: Mapping | None = None
) -> services.Visitor:
    """The visitor the `X-Widget-Token` names (401 without a valid one), with the identity
    claim and pre-chat fields found in `data`."""
    data = data or {}
    visitor_id = identity.read_visitor_token(
        inbox=inbox, token=request.headers.get(TOKEN_HEADER, "")
    )
    return services.Visitor(
        inbox=inbox,
        visitor_id=visitor_id,
        verified_email=identity.verified_email(
            inbox=inbox,
            email=str(data.get("identity_email", "")),
            signature=str(data.get("identity_signature", "")),
        ),
        name=str(data.get("name", "")),
        contact_email=str(data.get("email", "")),
        order_number=str(data.get("order", "")),
    )


def json_body(request: HttpRequest) -> Mapping:
    """A widget call's JSON object (or its form fields, for a multipart upload)."""
    if request.content_type != "application/json":
        return request.POST
    try:
        data = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise ApplicationError("The body is not JSON.", code="malformed_json") from exc
    if not isinstance(data, dict):
        raise ApplicationError("The body is a JSON object.", code="malformed_json")
    return data


@require_GET
def widget_script(request: HttpRequest) -> FileResponse:
    """`/widget.js`: the one file a shop embeds (static/js/widget.js)."""
    path = finders.find("js/widget.js")
    if path is None:
        raise Http404("The widget script is missing from static/.")
    # FileResponse closes the file when the response is done.
    response = FileResponse(open(path, "rb"), content_type="text/javascript; charset=utf-8")  # noqa: SIM115
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@widget_endpoint
def widget_config(request: HttpRequest, inbox: WebChatInbox) -> JsonResponse:
    if request.method != "GET":
        raise ApplicationError("Use GET.", code="method_not_allowed", status=405)
    return JsonResponse(
        {
            "shop_name": inbox.shop_name,
            "greeting": inbox.greeting,
            "colour": inbox.colour,
            "prechat_fields": inbox.prechat_fields,
            **selectors.get_availability(inbox=inbox),
        }
    )


@widget_endpoint
def widget_session(request: HttpRequest, inbox: WebChatInbox) -> JsonResponse:
    """Keep a valid token or issue a new one; say whether the identity claim was verified."""
    if request.method != "POST":
        raise ApplicationError("Use POST.", code="method_not_allowed", status=405)
    data = json_body(request)
    token = str(data.get("token", ""))
    try:
        identity.read_visitor_token(inbox=inbox, token=token)
    except identity.InvalidToken:
        _, token = identity.new_visitor_token(inbox=inbox)
    verified = identity.verified_email(
        inbox=inbox,
        email=str(data.get("identity_email", "")),
        signature=str(data.get("identity_signature", "")),
    )
    return JsonResponse({"token": token, "verified": bool(verified)})


@widget_endpoint
def widget_messages(request: HttpRequest, inbox: WebChatInbox) -> JsonResponse:
    """GET: the conversation after `after` (polling; marks agent replies delivered).
    POST: a visitor message (JSON, or multipart with a `file`)."""
    if request.method == "GET":
        visitor = visitor_from_request(request, inbox)
        try:
            after = int(request.GET.get("after", "0") or 0)
        except ValueError:
            raise ApplicationError(
                "`after` is a message id.", code="invalid", fields={"after": ["A number."]}
            ) from None
        messages = services.poll_messages(visitor=visitor, after_id=after)
        return JsonResponse({"messages": messages})
    if request.method != "POST":
        raise ApplicationError("Use GET or POST.", code="method_not_allowed", status=405)
    data = json_body(request)
    visitor = visitor_from_request(request, inbox, data)
    if rate_limited(
        key=f"webchat:visitor:{visitor.visitor_id}", rate=settings.WEBCHAT_VISITOR_MESSAGE_RATE
    ):
        raise ApplicationError(
            "You are sending too fast; wait a moment.", code="throttled", status=429
        )
    cart = data.get("cart")
    if isinstance(cart, str):
        try:
            cart = json.loads(cart) if cart else None
        except ValueError:
            cart = None
    message = services.post_visitor_message(
        visitor=visitor,
        body=str(data.get("body", "")),
        client_message_id=str(data.get("client_id", "")),
        upload=request.FILES.get("file"),
        context=services.PageContext(
            page_url=str(data.get("page_url", "")),
            cart=cart if isinstance(cart, dict) else None,
            offline=str(data.get("offline", "")).lower() in ("1", "true"),
        ),
    )
    return JsonResponse(
        {"message": selectors.serialize_message(message, shop_name=inbox.shop_name)}, status=201
    )


@widget_endpoint
def widget_receipt(request: HttpRequest, inbox: WebChatInbox) -> JsonResponse:
    if request.method != "POST":
        raise ApplicationError("Use POST.", code="method_not_allowed", status=405)
    data = json_body(request)
    visitor = visitor_from_request(request, inbox)
    try:
        message_id = int(data.get("message_id"))
    except (TypeError, ValueError):
        raise ApplicationError(
            "`message_id` is a number.", code="invalid", fields={"message_id": ["A number."]}
        ) from None
    message = services.record_receipt(
        visitor=visitor, message_id=message_id, status=str(data.get("status", ""))
    )
    return JsonResponse({"id": message.pk, "status": message.delivery_status})


@widget_endpoint
def widget_surveys(request: HttpRequest, inbox: WebChatInbox) -> JsonResponse:
    """GET: the rating prompts (and answered thanks) of the visitor's solved tickets."""
    if request.method != "GET":
        raise ApplicationError("Use GET.", code="method_not_allowed", status=405)
    visitor = visitor_from_request(request, inbox)
    surveys = selectors.list_visitor_surveys(inbox=inbox, visitor_id=visitor.visitor_id)
    cards = [card for card in map(selectors.csat_card, surveys) if card is not None]
    return JsonResponse({"surveys": cards})


@widget_endpoint
def widget_survey_answer(request: HttpRequest, inbox: WebChatInbox, survey_id: int) -> JsonResponse:
    """POST `{"rating": 1-5, "comment": …}`: the answered card; 409 for a second answer."""
    if request.method != "POST":
        raise ApplicationError("Use POST.", code="method_not_allowed", status=405)
    data = json_body(request)
    try:
        rating = int(data.get("rating"))
    except (TypeError, ValueError):
        raise ApplicationError(
            "Choose a rating from 1 to 5.", code="invalid", fields={"rating": ["1 to 5."]}
        ) from None
    survey = services.answer_csat_in_web_chat(
        visitor=visitor_from_request(request, inbox),
        survey_id=survey_id,
        rating=rating,
        comment=str(data.get("comment", "")),
    )
    return JsonResponse({"survey": selectors.csat_card(survey)})


@staff_page
@require_GET
def ticket_context(request: HttpRequest, reference: str) -> HttpResponse:
    """The ticket sidebar's web chat card: page, cart and order the visitor came with."""
    ticket = get_ticket_for_user(user=request.user, reference=reference)
    return render(
        request,
        "integrations/_webchat_context.html",
        {"conversation": selectors.get_conversation_context(ticket=ticket)},
    )
