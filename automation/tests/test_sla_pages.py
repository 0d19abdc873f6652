"""Staff pages for SLA policies and business calendars (issue 23): list, create/edit with the
models' validation (one policy per priority and channel, time zones, shifts, holidays, one
default calendar), permissions."""

import datetime

import pytest
from django.test import Client

from accounts.models import AuditLogEntry, Role
from accounts.tests.factories import UserFactory
from automation.models import BusinessCalendar, Holiday, SlaPolicy, WorkingHours
from automation.tests.factories import BusinessCalendarFactory, HolidayFactory, SlaPolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def policy_data(calendar: BusinessCalendar, **overrides) -> dict:
    return {
        "name": "WhatsApp urgent",
        "priority": "urgent",
        "channel": "whatsapp",
        "calendar": str(calendar.pk),
        "first_response_minutes": "15",
        "next_response_minutes": "30",
        "resolution_minutes": "240",
        "warn_before_minutes": "5",
        "ship_date_margin_minutes": "240",
        "is_active": "on",
        **overrides,
    }


def formset_data(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def calendar_data(*, hours=(), holidays=(), **fields) -> dict:
    return {
        "name": "Night shift",
        "timezone": "Europe/London",
        **fields,
        **formset_data("hours", list(hours)),
        **formset_data("holidays", list(holidays)),
    }


def test_overview_lists_policies_per_priority_and_calendars_with_hours(manager_client):
    calendar = BusinessCalendarFactory(name="Weekend desk", office_hours=False)
    WorkingHours.objects.create(
        calendar=calendar, weekday=5, start=datetime.time(10), end=datetime.time(14)
    )
    HolidayFactory(calendar=calendar)
    SlaPolicyFactory(
        name="Urgent WhatsApp", priority="urgent", channel="whatsapp", calendar=calendar
    )
    response = manager_client.get("/automation/sla/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Urgent WhatsApp" in html and "WhatsApp" in html
    assert "Normal priority" in html  # seeded by migration 0003
    assert "Saturday 10:00-14:00" in html
    assert 'Office hours</a> <span class="badge">Default</span>' in html


def test_create_policy_saves_and_audits(manager_client, manager):
    calendar = BusinessCalendar.objects.get(is_default=True)
    response = manager_client.post("/automation/sla/policies/new/", policy_data(calendar))
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(name="WhatsApp urgent")
    assert (policy.priority, policy.channel, policy.first_response_minutes) == (
        "urgent",
        "whatsapp",
        15,
    )
    assert AuditLogEntry.objects.filter(
        action="automation.sla_policy_created", actor=manager, target_id=str(policy.pk)
    ).exists()


def test_a_second_policy_for_the_same_priority_and_channel_is_refused(manager_client):
    calendar = BusinessCalendar.objects.get(is_default=True)
    existing = SlaPolicy.objects.filter(priority="normal", channel="").count()
    assert existing == 1
    response = manager_client.post(
        "/automation/sla/policies/new/", policy_data(calendar, priority="normal", channel="")
    )
    assert response.status_code == 200
    assert "Priority and Channel already exists" in response.content.decode()
    assert SlaPolicy.objects.filter(priority="normal", channel="").count() == 1


def test_edit_policy_targets_and_reject_negative_minutes(manager_client):
    policy = SlaPolicy.objects.get(priority="high", channel="")
    calendar = policy.calendar
    data = policy_data(calendar, name=policy.name, priority="high", channel="")
    response = manager_client.post(
        f"/automation/sla/policies/{policy.pk}/", {**data, "resolution_minutes": "-5"}
    )
    assert response.status_code == 200
    assert 'id="resolution_minutes-errors"' in response.content.decode()
    response = manager_client.post(f"/automation/sla/policies/{policy.pk}/", data)
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.first_response_minutes == 15


def test_create_calendar_with_split_shifts_and_a_holiday(manager_client, manager):
    response = manager_client.post(
        "/automation/sla/calendars/new/",
        calendar_data(
            hours=[
                {"weekday": "0", "start": "08:00", "end": "12:00"},
                {"weekday": "0", "start": "13:00", "end": "17:00"},
            ],
            holidays=[{"date": "2026-12-25", "name": "Christmas Day"}],
        ),
    )
    assert response.status_code == 302, response.content.decode()
    calendar = BusinessCalendar.objects.get(name="Night shift")
    assert [str(h) for h in calendar.hours.all()] == ["Monday 08:00-12:00", "Monday 13:00-17:00"]
    assert [str(h) for h in calendar.holidays.all()] == ["2026-12-25 Christmas Day"]
    assert response["Location"] == f"/automation/sla/calendars/{calendar.pk}/"
    assert AuditLogEntry.objects.filter(action="automation.calendar_created").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (calendar_data(timezone="Mars/Olympus"), "Unknown time zone."),
        (
            calendar_data(hours=[{"weekday": "1", "start": "17:00", "end": "09:00"}]),
            "The end of working hours must be after the start.",
        ),
        (
            calendar_data(
                hours=[
                    {"weekday": "2", "start": "09:00", "end": "13:00"},
                    {"weekday": "2", "start": "12:00", "end": "17:00"},
                ]
            ),
            "Wednesday: working hours overlap.",
        ),
        (
            calendar_data(
                holidays=[
                    {"date": "2026-12-25", "name": "Christmas"},
                    {"date": "2026-12-25", "name": "Again"},
                ]
            ),
            "Please correct the duplicate data for date",
        ),
    ],
)
def test_invalid_calendars_are_refused_with_the_reason(manager_client, data, message):
    response = manager_client.post("/automation/sla/calendars/new/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not BusinessCalendar.objects.filter(name="Night shift").exists()


def test_edit_calendar_removes_a_holiday_and_moves_the_default(manager_client):
    old_default = BusinessCalendar.objects.get(is_default=True)
    calendar = BusinessCalendarFactory(name="Weekend desk", office_hours=False)
    holiday = HolidayFactory(calendar=calendar)
    data = {
        "name": "Weekend desk",
        "timezone": "Europe/Paris",
        "is_default": "on",
        **formset_data("hours", []),
        **formset_data(
            "holidays",
            [{"id": str(holiday.pk), "date": "2026-12-25", "name": "Xmas", "DELETE": "on"}],
            initial=1,
        ),
    }
    response = manager_client.post(f"/automation/sla/calendars/{calendar.pk}/", data)
    assert response.status_code == 302, response.content.decode()
    calendar.refresh_from_db()
    old_default.refresh_from_db()
    assert calendar.is_default and calendar.timezone == "Europe/Paris"
    assert old_default.is_default is False
    assert not Holiday.objects.filter(pk=holiday.pk).exists()


def test_agents_get_403_and_unknown_objects_404(manager_client):
    policy = SlaPolicy.objects.first()
    calendar = BusinessCalendar.objects.first()
    client = Client()
    client.force_login(UserFactory(role=Role.AGENT))
    for path in (
        "/automation/sla/",
        f"/automation/sla/policies/{policy.pk}/",
        f"/automation/sla/calendars/{calendar.pk}/",
        "/automation/sla/calendars/new/",
    ):
        assert client.get(path).status_code == 403, path
    response = client.post(
        f"/automation/sla/policies/{policy.pk}/", policy_data(calendar, resolution_minutes="1")
    )
    assert response.status_code == 403
    policy.refresh_from_db()
    assert policy.resolution_minutes != 1
    assert manager_client.get("/automation/sla/policies/999999/").status_code == 404
    assert manager_client.get("/automation/sla/calendars/999999/").status_code == 404
