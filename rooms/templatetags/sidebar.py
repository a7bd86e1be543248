"""The sidebar's two sections: rooms (public and private together) and direct messages.

Each is ordered by the name the viewer sees, which for a direct message is the other
people's names, known only once the sidebar items are built (rooms.views.sidebar).
"""

from typing import Any

from django import template

register = template.Library()


@register.filter
def sidebar_section(items: list[dict[str, Any]], section: str) -> list[dict[str, Any]]:
    """The items of one section ("rooms" or "direct"), by name, ignoring case."""
    direct = section == "direct"
    return sorted(
        (item for item in items if (item["kind"] == "direct") == direct),
        key=lambda item: (item["name"].casefold(), item["slug"]),
    )
