from django.contrib.auth.models import AbstractUser
from django.db import models


def shown_name(username: str, display_name: str) -> str:
    """The name people see: the display name if there is one, else the username."""
    return display_name or username


class User(AbstractUser):
    """The chat's user: Django's user plus the name shown beside messages."""

    display_name = models.CharField(
        "Display name",
        max_length=64,
        blank=True,
        help_text="Shown beside your messages. Leave empty to use your username.",
    )
    share_read_receipts = models.BooleanField(
        "Share read receipts",
        default=True,
        help_text=(
            "Let people in direct messages and small rooms see when you have read "
            "their messages."
        ),
    )
    # Muted site-wide by staff (rooms.moderation): may read but not post until then.
    muted_until = models.DateTimeField(null=True, blank=True)
    muted_reason = models.CharField(max_length=500, blank=True)

    @property
    def shown_name(self) -> str:
        return shown_name(self.username, self.display_name)
