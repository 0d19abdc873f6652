"""The minute's periodic checks: mark SLA warnings and breaches, wake snoozed tickets, then
sweep outbound messages nobody is moving and scheduled replies past their time
(`integrations/outbound_sweep.py`). Run it every minute
from cron (or enqueue `automation.tasks.run_sla_checks_task` from a scheduler); running it twice
changes nothing."""

from django.core.management.base import BaseCommand

from automation.sla import run_sla_checks
from integrations.outbound_sweep import sweep_outbound


class Command(BaseCommand):
    help = (
        "Mark SLA warnings/breaches, notify, fire SLA rule events, flag ship-date risks, wake "
        "snoozed tickets; re-enqueue or reconcile outbound messages stuck in queued/sending/"
        "unknown; send scheduled replies past their time."
    )

    def handle(self, *args, **options) -> None:
        report = run_sla_checks()
        swept = sweep_outbound()
        self.stdout.write(
            f"refreshed={report.refreshed} warned={len(report.warned)} "
            f"breached={len(report.breached)} production_risks={len(report.production_risks)} "
            f"woken={len(report.woken)} outbound_requeued={len(swept.requeued)} "
            f"outbound_reconciled={len(swept.reconciled)} "
            f"scheduled_sent={len(swept.scheduled_sent)}"
        )
