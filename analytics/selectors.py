"""Analytics reads: the CSAT survey lookup and every report metric (docs/metrics.md)."""

from analytics.models import CustomerSatisfaction


def get_survey_by_token(*, token: str) -> CustomerSatisfaction | None:
    return CustomerSatisfaction.objects.select_related("ticket").filter(token=token).first()
