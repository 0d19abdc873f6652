from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.audit import prune_audit_log


class Command(BaseCommand):
    help = "Delete audit log rows older than AUDIT_RETENTION_DAYS (run daily, e.g. from cron)."

    def handle(self, *args, **options) -> None:
        deleted = prune_audit_log()
        self.stdout.write(
            f"Deleted {deleted} audit log rows older than {settings.AUDIT_RETENTION_DAYS} days."
        )
