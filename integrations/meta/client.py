"""Meta Send API (Messenger and Instagram messaging) and the User Profile API over the Graph
API with requests.

Graph errors (https://developers.facebook.com/docs/graph-api/guides/error-handling) come as
`{"error": {"message", "type", "code", "error_subcode", "is_transient", "fbtrace_id"}}`, most
of them with HTTP 400, rate limits included: codes 4 (app), 17 (user), 32 (Page) and 613 (calls
per hour), and 1/2 (temporary API issues), or anything marked `is_transient`, are retried with
backoff; the rest are permanent and keep code and subcode (10/2018278: outside the window).
"""

import json
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from integrations.clients import (
    TIMEOUT_SECONDS,
    OutboundFile,
    OutboundRequest,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    SendResult,
    is_retryable_status,
)
from integrations.http_retry import ProviderHttpClient

TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 613})
# Echoes of our own sends carry this in `message.metadata` (the Send API returns it on the echo).
OUR_METADATA_PREFIX = "printdesk:"
# GET /{user id}: Messenger's User Profile API names first and last name; Instagram's one name.
PROFILE_FIELDS = {"facebook": "first_name,last_name,profile_pic", "instagram": "name,profile_pic"}


def is_configured() -> bool:
    return bool(settings.META_PAGE_ACCESS_TOKEN)


def graph_url() -> str:
    """`META_GRAPH_URL` (the host) and `META_GRAPH_VERSION` (e.g. v21.0)."""
    return f"{settings.META_GRAPH_URL.rstrip('/')}/{settings.META_GRAPH_VERSION}"


def graph_error(response: requests.Response) -> ProviderError:
    """The typed error for a Graph answer >= 400: transient (rate limits, `is_transient`, 5xx)
    or permanent, with the Graph code and subcode."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    code = error.get("code")
    is_transient = (
        error.get("is_transient") is True
        or code in TRANSIENT_CODES
        or is_retryable_status(response.status_code)
    )
    kind = ProviderUnavailable if is_transient else ProviderRejected
    return kind(
        str(error.get("message") or response.text[:500]),
        code=str(code or f"http_{response.status_code}"),
        subcode=str(error.get("error_subcode") or ""),
        status=response.status_code,
    )


@dataclass(frozen=True)
class Profile:
    name: str
    picture_url: str


class MetaClient(ProviderHttpClient):
    """A send is not idempotent: it is tried once here and retried by its task."""

    provider = "meta"
    timeout = (TIMEOUT_SECONDS, TIMEOUT_SECONDS)

    def __init__(self, *, access_token: str, base_url: str) -> None:
        super().__init__(base_url=base_url)
        self.access_token = access_token

    @classmethod
    def from_settings(cls) -> "MetaClient":
        return cls(access_token=settings.META_PAGE_ACCESS_TOKEN, base_url=graph_url())

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
                        "message": {"text": request.body, "metadata": _metadata(request)},
                    }
                )
            )
        for file in request.files:
            message_ids.append(self._post_file(request, file, messaging))
        return SendResult(provider=self.provider, provider_message_id=message_ids[0], status="sent")

    def _post_file(
        self, request: OutboundRequest, file: OutboundFile, messaging: dict[str, str]
    ) -> str:
        kind = next(
            (k for k in ("image", "video", "audio") if file.content_type.startswith(f"{k}/")),
            "file",
        )
        return self._post(
            data={
                "recipient": json.dumps({"id": request.to}),
                **messaging,
                "message": json.dumps(
                    {
                        "attachment": {"type": kind, "payload": {"is_reusable": False}},
                        "metadata": _metadata(request),
                    }
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
            raise graph_error(response)
        message_id = response.json().get("message_id")
        if not message_id:
            raise ProviderRejected("Meta accepted the call but returned no message id.")
        return message_id

    def get_profile(self, *, user_id: str, platform: str) -> Profile:
        """The person's name and profile picture (User Profile API; Instagram's picture link
        expires within days). Reading is idempotent: retried in-call on timeouts and 5xx."""
        response = self.request(
            "GET",
            f"/{user_id}",
            idempotent=True,
            params={"fields": PROFILE_FIELDS[platform], "access_token": self.access_token},
        )
        if response.status_code >= 400:
            raise graph_error(response)
        body: dict[str, Any] = response.json()
        name = body.get("name") or " ".join(
            part for part in (body.get("first_name"), body.get("last_name")) if part
        )
        picture = str(body.get("profile_pic") or "")
        return Profile(
            name=str(name or "").strip(),
            picture_url=picture if picture.startswith(("https://", "http://")) else "",
        )


def _metadata(request: OutboundRequest) -> str:
    return f"{OUR_METADATA_PREFIX}{request.message_id}"
