"""Writes to accounts. Views and the admin call these, never the ORM directly."""

from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.models import User


@transaction.atomic
def user_create(*, username: str, password: str, display_name: str = "") -> User:
    """Creates a user and seats them in the default room: somewhere to talk at once."""
    from rooms.services import membership_join_default_rooms

    user = get_user_model().objects.create_user(
        username=username, password=password, display_name=display_name.strip()
    )
    membership_join_default_rooms(user=user)
    return user


def user_update_profile(*, user: User, display_name: str) -> User:
    user.display_name = display_name.strip()
    user.save(update_fields=["display_name"])
    return user
