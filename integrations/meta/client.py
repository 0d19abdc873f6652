"""Meta Send API (Messenger and Instagram messaging) over the Graph API with requests."""

from django.conf import settings

from integrations.clients import (
    TIMEOUT_SECONDS,
    OutboundRequest,
    ProviderRejected,
    SendResult,
    error_for_status,
)
from integrations.http_retry import ProviderHttpClient


def is_configured() -> bool:
    return bool(settings.META_PAGE_ACCESS_TOKEN)


class MetaClient(ProviderHttpClient):
    """A send is not idempotent: it is tried once here and retried by its task."""

    provider = "meta"
    timeout = (TIMEOUT_SECONDS, TIMEOUT_SECONDS)

    def __init__(self, *, access_token: str, base_url: str) -> None:
        super().__init__(base_url=base_url)
        self.access_token = access_token

    @classmethod
    def from_settings(cls) -> "MetaClient":
        return cls(access_token=settings.META_PAGE_ACCESS_TOKEN, base_url=settings.META_GRAPH_URL)

    def send(self, request: OutboundRequest) -> SendResult:
        response = self.request(
            "POST",
            "/me/messages",
            idempotent=False,
            params={"access_token": self.access_token},
            json={
                "recipient": {"id": request.to},
                "messaging_type": "RESPONSE",
                "message": {"text": request.body},
            },
        )
        if response.status_code >= 400:
            try:
                error = response.json().get("error", {})
            except ValueError:
                error = {}
            raise error_for_status(
                response.status_code,
                error.get("message") or response.text[:500],
                code=str(error.get("code") or ""),
            )
        message_id = response.json().get("message_id")
        if not message_id:
            raise ProviderRejected("Meta accepted the call but returned no message id.")
        return SendResult(provider=self.provider, provider_message_id=message_id, status="sent")
