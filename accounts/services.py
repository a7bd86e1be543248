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


@transaction.atomic
def user_update_profile(
    *, user: User, display_name: str, share_read_receipts: bool | None = None
) -> User:
    """Saves the profile; `share_read_receipts` None leaves that setting as it is.

    Turning read receipts off (or on) shows at once on the open pages of the user's
    DMs and small rooms."""
    from rooms.receipts import receipts_sharing_changed

    # Compared with the stored value: a bound ModelForm has already set the attribute.
    stored = User.objects.values_list("share_read_receipts", flat=True).get(pk=user.pk)
    sharing_changed = share_read_receipts is not None and share_read_receipts != stored
    user.display_name = display_name.strip()
    if share_read_receipts is not None:
        user.share_read_receipts = share_read_receipts
    user.save(update_fields=["display_name", "share_read_receipts"])
    if sharing_changed:
        receipts_sharing_changed(user=user)
    return user
