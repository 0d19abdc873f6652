"""Ceiling views: the least work an endpoint of the same contract can do.

`ceiling_twilio` verifies the Twilio signature with the SDK and does one unique insert, which is
the floor of what `POST /api/webhooks/twilio` must do per message.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from integrations.models import WebhookEvent

CEILING_PROVIDER = "bench"


@csrf_exempt
@require_POST
def ceiling_twilio(request: HttpRequest) -> HttpResponse:
    params = request.POST.dict()
    url = settings.PUBLIC_BASE_URL + request.path
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    if not validator.validate(url, params, request.headers.get("X-Twilio-Signature", "")):
        return HttpResponse(status=403)
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(
                provider=CEILING_PROVIDER,
                kind="sms",
                event_id=params.get("MessageSid", ""),
                is_verified=True,
                raw_body=request.body,
                payload=params,
            )
    except IntegrityError:
        pass  # a replay: already stored, answered like the first time
    return HttpResponse("<Response/>", content_type="text/xml")
