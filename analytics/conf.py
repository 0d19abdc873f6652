"""Analytics settings with their defaults, so the app works before settings.py names them."""

from django.conf import settings

DEFAULT_BUSINESS_HOURS = {"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:30"}


def csat_survey_delay_minutes() -> int:
    return getattr(settings, "CSAT_SURVEY_DELAY_MINUTES", 60)


def csat_survey_expiry_days() -> int:
    return getattr(settings, "CSAT_SURVEY_EXPIRY_DAYS", 14)


def business_hours() -> dict:
    return getattr(settings, "BUSINESS_HOURS", DEFAULT_BUSINESS_HOURS)
