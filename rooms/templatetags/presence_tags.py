"""The presence dot (templates/partials/presence.html) of one person on a page."""

from django import template

register = template.Library()


@register.inclusion_tag("partials/presence.html")
def presence_dot(statuses: dict[int, str], person: int) -> dict[str, object]:
    """`statuses` as rooms.presence.presence_statuses gives them for the page."""
    return {"person": person, "status": statuses.get(person, "offline")}
