"""Web chat: the storefront widget (`/widget.js`), its visitors' socket (`/ws/widget/`) and HTTP
fallback, delivered like any other provider channel (`web`). docs/channels.md "Web chat"."""
