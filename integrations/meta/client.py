"""Meta Send API (Messenger and Instagram messaging) over the Graph API with requests."""

import requests
from django.conf import settings

from integrations.clients import (
    TIMEOUT_SECONDS,
    OutboundRequest,
    ProviderRejected,
    ProviderUnavailable,
    SendResult,
    error_for_status,
)


def is_configured() -> bool:
    return bool(settings.META_PAGE_ACCESS_TOKEN)


class MetaClient:
    provider = "meta"

    def __init__(self, *, access_token: str, base_url: str) -> None:
        self.access_token = access_token
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    @classmethod
    def from_settings(cls) -> "MetaClient":
        return cls(access_token=settings.META_PAGE_ACCESS_TOKEN, base_url=settings.META_GRAPH_URL)

    def send(self, request: OutboundRequest) -> SendResult:
        try:
            response = self.session.post(
                f"{self.base_url}/me/messages",
                params={"access_token": self.access_token},
                json={
                    "recipient": {"id": request.to},
                    "messaging_type": "RESPONSE",
                    "message": {"text": request.body},
                },
                timeout=TIMEOUT_SECONDS,
            )
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"Meta unreachable: {exc}", code="unreachable") from exc
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
