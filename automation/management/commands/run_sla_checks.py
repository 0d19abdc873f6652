"""Mark SLA warnings and breaches now. Run it every minute from cron (or enqueue
`automation.tasks.run_sla_checks_task` from a scheduler); running it twice changes nothing."""

from django.core.management.base import BaseCommand

from automation.sla import run_sla_checks


class Command(BaseCommand):
    help = "Mark SLA warnings/breaches, notify, fire SLA rule events, flag ship-date risks."

    def handle(self, *args, **options) -> None:
        report = run_sla_checks()
        self.stdout.write(
            f"refreshed={report.refreshed} warned={len(report.warned)} "
            f"breached={len(report.breached)} production_risks={len(report.production_risks)}"
        )
