"""Serve a loopback fake Twilio + SendGrid + Meta that calls the status webhooks back."""

import secrets
import threading

from django.core.management.base import BaseCommand

from integrations.fakes.messaging import FakeMessaging


class Command(BaseCommand):
    help = "Run a fake messaging provider (Twilio, SendGrid, Meta) for local demos."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8703)
        parser.add_argument("--public-base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, host, port, public_base_url, **options):
        twilio_token, meta_secret = secrets.token_hex(16), secrets.token_hex(16)
        fake = FakeMessaging(
            public_base_url=public_base_url,
            twilio_auth_token=twilio_token,
            meta_app_secret=meta_secret,
            host=host,
            port=port,
        ).start()
        # One approved WhatsApp template, so `sync_message_templates` has something to fetch.
        fake.add_content(
            friendly_name="Order update",
            body="Hi {{1}}, there is news about your order {{2}}. Reply to continue.",
            variables={"1": "there", "2": "your order"},
        )
        self.stdout.write(self.style.SUCCESS("Fake messaging provider running. Put these in .env:"))
        for line in (
            f"PUBLIC_BASE_URL={public_base_url}",
            f"TWILIO_API_URL={fake.url}",
            f"TWILIO_CONTENT_API_URL={fake.url}",
            "TWILIO_ACCOUNT_SID=AC" + "0" * 32,
            f"TWILIO_AUTH_TOKEN={twilio_token}",
            "TWILIO_SMS_FROM=+15559990000",
            "TWILIO_WHATSAPP_FROM=+15559990001",
            f"SENDGRID_API_URL={fake.url}",
            "SENDGRID_API_KEY=SG.demo",
            f"SENDGRID_EVENT_PUBLIC_KEY={fake.event_public_key}",
            f"META_GRAPH_URL={fake.url}",
            "META_PAGE_ACCESS_TOKEN=demo-page-token",
            f"META_APP_SECRET={meta_secret}",
        ):
            self.stdout.write(line)
        self.stdout.write("Stop with Ctrl-C.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()
