"""Demo automation for `seed_demo`: the issue's example rule. Idempotent (keyed on the name)."""

from automation.models import Rule, RuleEvent

VIP_WHATSAPP_RULE = "WhatsApp from a VIP customer → priority high, assign Sales"


def seed_automation_demo() -> Rule:
    rule = Rule.objects.filter(name=VIP_WHATSAPP_RULE).first()
    if rule is not None:
        return rule
    rule = Rule(
        name=VIP_WHATSAPP_RULE,
        description="VIP = the customer has a PERP VIP wallet.",
        event=RuleEvent.TICKET_CREATED,
        conditions=[
            {"field": "channel", "op": "equals", "value": "whatsapp"},
            {"field": "customer_is_vip", "op": "equals", "value": True},
        ],
        actions=[
            {"type": "set_priority", "priority": "high"},
            {"type": "assign_team", "team": "sales", "round_robin": True},
        ],
        position=10,
    )
    rule.full_clean()
    rule.save()
    return rule
