"""`{% load media_proxy %}`: provider images through our origin.

    <img src="{{ product.images.0.url|proxied_image }}">

gives `/media-proxy/<signed>/` (integrations/media_proxy.py), or "" for anything not http(s).
"""

from django import template

from integrations.media_proxy import proxied_image_url

register = template.Library()


@register.filter
def proxied_image(url: str | None) -> str:
    return proxied_image_url(url)
