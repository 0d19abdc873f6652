from integrations.management.commands._sync import SyncCommand


class Command(SyncCommand):
    help = "Match helpdesk customers to PERP and refresh orders, production, invoices, wallet."
    provider = "perp"
