"""Macros on the agents' pages (the ticket page and the queue's bulk bar), without the
ticket pages' code importing this app: a template asks for them by tag."""

from django import template

from .. import rules, services

register = template.Library()


@register.inclusion_tag("automation/includes/ticket_macros.html", takes_context=True)
def ticket_macros(context, ticket):
    request = context["request"]
    macros = list(services.macros_for(request.user, [ticket.organization_id]).order_by("name", "id"))
    return {"ticket": ticket, "macros": macros, "csrf_token": context.get("csrf_token"), "request": request}


@register.inclusion_tag("automation/includes/reply_macros.html", takes_context=True)
def reply_macros(context, ticket):
    """The composer's picker: each macro's reply, filled in for this ticket, to insert and
    edit before sending (applying the macro whole is the Macros panel)."""
    request = context["request"]
    values = rules.template_values(ticket, agent=request.user)
    macros = (
        services.macros_for(request.user, [ticket.organization_id]).exclude(reply="").order_by("name", "id")
    )
    return {
        "choices": [(macro, rules.render_template(macro.reply, values) or macro.reply) for macro in macros]
    }


@register.inclusion_tag("automation/includes/bulk_macros.html", takes_context=True)
def bulk_macros(context):
    request = context["request"]
    membership = getattr(request, "membership", None)
    if not membership:
        return {"macros": []}
    macros = list(services.macros_for(request.user, [membership.organization_id]).order_by("name", "id"))
    return {"macros": macros, "request": request}
