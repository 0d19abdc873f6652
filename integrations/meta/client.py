"""Meta Send API (Messenger and Instagram messaging) over the Graph API with requests."""

import json

from django.conf import settings

from integrations.clients import (
    TIMEOUT_SECONDS,
    OutboundFile,
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
        """The text, then each file as its own message (the Send API takes one attachment per
        message, uploaded as multipart `filedata`); the first message's id identifies the send."""
        message_ids = []
        messaging = {"messaging_type": request.messaging_type or "RESPONSE"}
        if request.tag:
            messaging["tag"] = request.tag
        if request.body or not request.files:
            message_ids.append(
                self._post(
                    json={
                        "recipient": {"id": request.to},
                        **messaging,
                        "message": {"text": request.body},
                    }
                )
            )
        for file in request.files:
            message_ids.append(self._post_file(request.to, file, messaging))
        return SendResult(provider=self.provider, provider_message_id=message_ids[0], status="sent")

    def _post_file(self, to: str, file: OutboundFile, messaging: dict[str, str]) -> str:
        kind = next(
            (k for k in ("image", "video", "audio") if file.content_type.startswith(f"{k}/")),
            "file",
        )
        return self._post(
            data={
                "recipient": json.dumps({"id": to}),
                **messaging,
                "message": json.dumps(
                    {"attachment": {"type": kind, "payload": {"is_reusable": False}}}
                ),
            },
            files={"filedata": (file.filename, file.read(), file.content_type)},
        )

    def _post(self, **body) -> str:
        response = self.request(
            "POST",
            "/me/messages",
            idempotent=False,
            params={"access_token": self.access_token},
            **body,
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
        return message_id
