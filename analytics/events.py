"""The domain events analytics emits (automation subscribes: rules and outbound webhooks)."""

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class CsatAnswered:
    ticket_id: int
    survey_id: int
    rating: int
