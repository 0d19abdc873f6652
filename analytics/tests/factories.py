import secrets
from datetime import timedelta

import factory
from django.utils import timezone

from analytics.models import CustomerSatisfaction
from tickets.tests.factories import TicketFactory


class CustomerSatisfactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerSatisfaction

    ticket = factory.SubFactory(TicketFactory, status="solved")
    customer = factory.SelfAttribute("ticket.customer")
    token = factory.LazyFunction(lambda: secrets.token_urlsafe(16))
    channel = factory.SelfAttribute("ticket.channel")
    sent_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))
