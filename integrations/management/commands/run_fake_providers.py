"""Serve the fake Shopify and PERP on loopback ports for local demos (Ctrl-C stops them)."""

import threading

from django.core.management.base import BaseCommand

from integrations.fakes import demo_data
from integrations.fakes.perp import FakePerp
from integrations.fakes.shopify import FakeShopify


class Command(BaseCommand):
    help = "Run loopback fake Shopify (GraphQL) and PERP (REST) servers with the demo data."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--shopify-port", type=int, default=8701)
        parser.add_argument("--perp-port", type=int, default=8702)
        parser.add_argument("--shopify-token", default="shpat_demo")
        parser.add_argument(
            "--shopify-products",
            type=int,
            default=0,
            help="Serve this many generated products instead of the demo catalog (bulk sync demo).",
        )
        parser.add_argument(
            "--shopify-restore-rate",
            type=float,
            default=100.0,
            help="Points per second the cost bucket refills (Standard plan: 100).",
        )
        parser.add_argument("--perp-key", default="perp_demo")

    def handle(self, *args, host, shopify_port, perp_port, shopify_token, perp_key, **options):
        size = options["shopify_products"]
        shopify = FakeShopify(
            host=host,
            port=shopify_port,
            access_token=shopify_token,
            products=demo_data.large_catalog(size) if size else None,
            restore_rate=options["shopify_restore_rate"],
        ).start()
        perp = FakePerp(host=host, port=perp_port, api_key=perp_key).start()
        self.stdout.write(self.style.SUCCESS("Fake providers running. Put these in .env:"))
        self.stdout.write(f"SHOPIFY_API_URL={shopify.api_url}")
        self.stdout.write(f"SHOPIFY_ACCESS_TOKEN={shopify_token}")
        self.stdout.write(
            f"# fake Shopify: {len(shopify.catalog())} products, cost bucket "
            f"{shopify.bucket.maximum:.0f} points refilled {shopify.bucket.restore_rate:g}/s"
        )
        self.stdout.write(f"PERP_API_URL={perp.url}")
        self.stdout.write(f"PERP_API_KEY={perp_key}")
        # Its artwork thumbnails live on loopback, which the image proxy reaches only by name.
        self.stdout.write(f"MEDIA_PROXY_PRIVATE_HOSTS={perp.url.removeprefix('http://')}")
        self.stdout.write("Stop with Ctrl-C.")
        self.stdout.flush()
        try:
            self.wait_forever()
        except KeyboardInterrupt:
            pass
        finally:
            shopify.stop()
            perp.stop()

    def wait_forever(self) -> None:
        threading.Event().wait()
