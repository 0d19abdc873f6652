import datetime

import factory

from automation.models import (
    BusinessCalendar,
    Holiday,
    Rule,
    RuleEvent,
    SlaPolicy,
    WebhookEndpoint,
    WorkingHours,
)


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rule

    name = factory.Sequence(lambda n: f"Rule {n}")
    event = RuleEvent.TICKET_CREATED
    conditions = factory.LazyFunction(list)
    actions = factory.LazyFunction(lambda: [{"type": "set_priority", "priority": "high"}])
    position = factory.Sequence(lambda n: n + 1)


class BusinessCalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessCalendar
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Calendar {n}")
    timezone = "Europe/London"

    @factory.post_generation
    def office_hours(self, create: bool, extracted, **kwargs) -> None:
        """Mon-Fri 09:00-17:00 unless `office_hours=False`."""
        if create and extracted is not False:
            for weekday in range(5):
                WorkingHours.objects.create(
                    calendar=self,
                    weekday=weekday,
                    start=datetime.time(9, 0),
                    end=datetime.time(17, 0),
                )


class HolidayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Holiday

    calendar = factory.SubFactory(BusinessCalendarFactory)
    date = datetime.date(2026, 12, 25)
    name = "Christmas Day"


class SlaPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaPolicy
        django_get_or_create = ("priority", "channel")

    name = factory.Sequence(lambda n: f"Policy {n}")
    priority = "normal"
    channel = ""
    calendar = factory.SubFactory(BusinessCalendarFactory)
    first_response_minutes = 60
    next_response_minutes = 120
    resolution_minutes = 480
    warn_before_minutes = 30


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    name = factory.Sequence(lambda n: f"Endpoint {n}")
    url = "http://127.0.0.1:9/hook"
    events = factory.LazyFunction(lambda: ["ticket.created", "ticket.updated", "message.created"])
    secret = "s3cret-for-tests"
