from integrations.management.commands._sync import SyncCommand


class Command(SyncCommand):
    help = "Match helpdesk customers to Shopify and refresh their cached customer/order data."
    provider = "shopify"
