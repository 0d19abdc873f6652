"""What a shop pastes into its Shopify theme (shown in the admin, described in docs/channels.md)."""

from django.conf import settings

from integrations.models import WebChatInbox


def script_snippet(inbox: WebChatInbox) -> str:
    src = f"{settings.PUBLIC_BASE_URL}/widget.js"
    return f'<script src="{src}" data-inbox="{inbox.key}" async></script>'


def liquid_snippet(inbox: WebChatInbox) -> str:
    """The theme signs a logged-in customer's email with the inbox secret, server-side in Liquid
    (the secret lives in a theme setting, never in the page); visitors get the signature only."""
    return (
        "{%- if customer -%}\n"
        f'<script src="{settings.PUBLIC_BASE_URL}/widget.js" data-inbox="{inbox.key}"\n'
        '  data-customer-email="{{ customer.email | escape }}"\n'
        '  data-customer-signature="'
        '{{ customer.email | hmac_sha256: settings.printdesk_chat_secret }}" async></script>\n'
        "{%- else -%}\n"
        f"{script_snippet(inbox)}\n"
        "{%- endif -%}"
    )
