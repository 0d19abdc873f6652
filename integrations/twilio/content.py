"""Twilio's Content API (WhatsApp templates) through the official SDK: list the account's
templates and each one's WhatsApp approval (`GET /v1/Content`, `GET /v1/Content/<sid>/
ApprovalRequests`; https://www.twilio.com/docs/content/content-api-resources)."""

from dataclasses import dataclass

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from integrations.clients import TIMEOUT_SECONDS, ProviderUnavailable, error_for_status

PAGE_SIZE = 100


@dataclass(frozen=True)
class ContentTemplate:
    sid: str
    friendly_name: str
    language: str
    body: str
    sample_variables: dict[str, str]
    approval_status: str
    category: str
    rejection_reason: str


class ContentClient:
    provider = "twilio"

    def __init__(self, *, account_sid: str, auth_token: str, base_url: str) -> None:
        self.client = Client(
            account_sid, auth_token, http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS)
        )
        self.client.content.base_url = base_url.rstrip("/")

    @classmethod
    def from_settings(cls) -> "ContentClient":
        return cls(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            base_url=settings.TWILIO_CONTENT_API_URL,
        )

    def list_templates(self) -> list[ContentTemplate]:
        """Every text template with its WhatsApp approval (one approval call per template)."""
        contents = self.client.content.v1.contents
        try:
            templates = []
            for content in contents.stream(page_size=PAGE_SIZE):
                text = (content.types or {}).get("twilio/text")
                if text is None:
                    continue  # cards, lists, ...: the composer sends text templates only
                approval = contents(content.sid).approval_fetch().fetch().whatsapp or {}
                templates.append(
                    ContentTemplate(
                        sid=content.sid,
                        friendly_name=content.friendly_name or content.sid,
                        language=content.language or "",
                        body=text.get("body", ""),
                        sample_variables=dict(content.variables or {}),
                        approval_status=(approval.get("status") or "unsubmitted").lower(),
                        category=approval.get("category") or "",
                        rejection_reason=approval.get("rejection_reason") or "",
                    )
                )
        except TwilioRestException as exc:
            raise error_for_status(exc.status, exc.msg, code=str(exc.code or "")) from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"Twilio unreachable: {exc}", code="unreachable") from exc
        return templates
