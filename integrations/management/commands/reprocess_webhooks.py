"""Run stored webhook events again: `--failed` (everything needing attention) or `--id N ...`."""

from django.core.management.base import BaseCommand, CommandError

from integrations.webhooks import list_webhook_events_needing_attention, reprocess_webhook_events


class Command(BaseCommand):
    help = "Reprocess stored inbound webhook events (failed, or stuck unprocessed)."

    def add_arguments(self, parser):
        parser.add_argument("--id", type=int, nargs="+", default=[], help="Event ids.")
        parser.add_argument("--failed", action="store_true", help="Every event needing attention.")
        parser.add_argument("--provider", default="", help="With --failed: only this provider.")

    def handle(self, *args, id: list[int], failed: bool, provider: str, **options):
        if not id and not failed:
            raise CommandError("Give --id N ... or --failed.")
        event_ids = list(id)
        if failed:
            events = list_webhook_events_needing_attention()
            if provider:
                events = events.filter(provider=provider)
            event_ids += list(events.values_list("pk", flat=True))
        count = reprocess_webhook_events(event_ids=event_ids)
        self.stdout.write(f"{count} event(s) queued for reprocessing.")
