"""The domain events analytics emits (automation subscribes: rules and outbound webhooks;
integrations: the storefront widget's rating prompt)."""

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class CsatSurveySent:
    ticket_id: int
    survey_id: int
    channel: str


@dataclass(frozen=True, kw_only=True)
class CsatAnswered:
    ticket_id: int
    survey_id: int
    rating: int
