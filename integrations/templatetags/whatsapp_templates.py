"""`{% whatsapp_template_picker ticket user %}`: the approved WhatsApp templates an agent may
send when the 24-hour window is closed, each with its variables filled from the ticket."""

from django import template

from integrations import message_templates

register = template.Library()


@register.inclusion_tag("integrations/_template_picker.html")
def whatsapp_template_picker(ticket, user) -> dict:
    templates = [
        (
            item,
            message_templates.fill_variables(template=item, ticket=ticket, author=user),
        )
        for item in message_templates.list_sendable_templates()
    ]
    return {"ticket": ticket, "templates": templates}
