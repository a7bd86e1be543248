"""accounts.services: creating users and updating profiles."""

import pytest
from django.contrib.auth import get_user_model

from accounts import services
from rooms.models import Membership, Room
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.django_db]


def test_when_a_user_is_created_then_the_password_is_hashed_and_the_name_trimmed():
    user = services.user_create(
        username="alice", password=PASSWORD, display_name=" Al "
    )

    user.refresh_from_db()
    assert user.display_name == "Al"
    assert user.password != PASSWORD
    assert user.check_password(PASSWORD)
    assert get_user_model() is type(user)


def test_when_a_user_is_created_then_they_are_a_member_of_general_with_nothing_unread():
    Room.objects.filter(slug="general").update(last_seq=7)
    general = Room.objects.get(slug="general")

    user = services.user_create(username="alice", password=PASSWORD)

    membership = Membership.objects.get(user=user)
    assert membership.room == general
    assert membership.role == Membership.Role.MEMBER
    assert membership.last_read_seq == 7


def test_when_general_is_archived_then_a_new_user_is_seated_nowhere():
    Room.objects.filter(slug="general").update(is_archived=True)

    user = services.user_create(username="alice", password=PASSWORD)

    assert not Membership.objects.filter(user=user).exists()


def test_when_general_does_not_exist_then_a_user_is_still_created():
    Room.objects.filter(slug="general").delete()

    user = services.user_create(username="alice", password=PASSWORD)

    assert user.pk is not None
    assert not Membership.objects.filter(user=user).exists()


def test_when_a_profile_is_updated_then_the_display_name_is_trimmed_and_stored():
    user = UserFactory(display_name="Old")

    services.user_update_profile(user=user, display_name="  New  ")

    user.refresh_from_db()
    assert user.display_name == "New"


def test_when_the_display_name_is_cleared_then_the_username_is_shown():
    user = UserFactory(username="alice", display_name="Old")

    services.user_update_profile(user=user, display_name="   ")

    user.refresh_from_db()
    assert (user.display_name, user.shown_name) == ("", "alice")
