"""Business-time arithmetic over a calendar of working hours and holidays.

Pure functions over a `Schedule` (no queries), so they are easy to test with any clock.
A calendar without working hours means around the clock.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from automation.models import BusinessCalendar

# Safety net: a schedule whose every day is a holiday must not loop forever.
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    hours: dict[int, list[tuple[time, time]]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    @property
    def is_always_open(self) -> bool:
        return not any(self.hours.values())

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        return [
            (datetime.combine(day, start, self.tz), datetime.combine(day, end, self.tz))
            for start, end in self.hours.get(day.weekday(), [])
        ]


def schedule_for(calendar: BusinessCalendar | None) -> Schedule:
    """The schedule of `calendar` (prefetch `hours` and `holidays`); None: settings' hours."""
    if calendar is None:
        conf = settings.BUSINESS_HOURS
        start, end = time.fromisoformat(conf["start"]), time.fromisoformat(conf["end"])
        return Schedule(
            tz=ZoneInfo(settings.TIME_ZONE), hours={d: [(start, end)] for d in conf["weekdays"]}
        )
    hours: dict[int, list[tuple[time, time]]] = {}
    for row in sorted(calendar.hours.all(), key=lambda h: (h.weekday, h.start)):
        hours.setdefault(row.weekday, []).append((row.start, row.end))
    return Schedule(
        tz=ZoneInfo(calendar.timezone),
        hours=hours,
        holidays=frozenset(h.date for h in calendar.holidays.all()),
    )


def add_business_minutes(schedule: Schedule, start: datetime, minutes: float) -> datetime:
    """The moment `minutes` of business time after `start`."""
    if schedule.is_always_open:
        return start + timedelta(minutes=minutes)
    remaining = timedelta(minutes=minutes)
    cursor = start.astimezone(schedule.tz)
    day = cursor.date()
    for _ in range(MAX_DAYS):
        for opens, closes in schedule.intervals_on(day):
            begin = max(opens, cursor)
            if closes <= begin:
                continue
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        day += timedelta(days=1)
    raise ValueError("The calendar has no working time within three years.")


def subtract_business_minutes(schedule: Schedule, end: datetime, minutes: float) -> datetime:
    """The moment `minutes` of business time before `end` (what `add_business_minutes` adds
    back); with 0 minutes, the last business moment at or before `end`."""
    if schedule.is_always_open:
        return end - timedelta(minutes=minutes)
    remaining = timedelta(minutes=minutes)
    cursor = end.astimezone(schedule.tz)
    day = cursor.date()
    for _ in range(MAX_DAYS):
        for opens, closes in reversed(schedule.intervals_on(day)):
            finish = min(closes, cursor)
            if finish <= opens:
                continue
            available = finish - opens
            if remaining <= available:
                return finish - remaining
            remaining -= available
        day -= timedelta(days=1)
    raise ValueError("The calendar has no working time within three years.")


def business_minutes_between(schedule: Schedule, start: datetime, end: datetime) -> float:
    """Business minutes from `start` to `end` (negative when `end` is earlier)."""
    if end < start:
        return -business_minutes_between(schedule, end, start)
    if schedule.is_always_open:
        return (end - start).total_seconds() / 60
    total = timedelta()
    day = start.astimezone(schedule.tz).date()
    last = end.astimezone(schedule.tz).date()
    while day <= last:
        for opens, closes in schedule.intervals_on(day):
            begin, finish = max(opens, start), min(closes, end)
            if finish > begin:
                total += finish - begin
        day += timedelta(days=1)
    return total.total_seconds() / 60


def is_business_time(schedule: Schedule, at: datetime) -> bool:
    if schedule.is_always_open:
        return True
    local = at.astimezone(schedule.tz)
    return any(opens <= local < closes for opens, closes in schedule.intervals_on(local.date()))
