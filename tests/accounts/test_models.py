"""accounts.models.User: Django's user with a display name."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from accounts.models import User
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db]


def test_when_django_asks_for_the_user_model_then_it_is_the_chats_own():
    assert settings.AUTH_USER_MODEL == "accounts.User"
    assert get_user_model() is User


def test_when_a_user_has_a_display_name_then_it_is_shown():
    assert UserFactory(username="alice", display_name="Alice Liddell").shown_name == (
        "Alice Liddell"
    )


def test_when_a_user_has_no_display_name_then_the_username_is_shown():
    assert UserFactory(username="alice", display_name="").shown_name == "alice"


def test_when_the_display_name_field_is_described_then_it_is_optional_and_short():
    field = User._meta.get_field("display_name")

    assert field.blank
    assert field.max_length == 64
    assert field.verbose_name == "Display name"


def test_when_a_user_is_made_then_the_default_display_name_is_empty():
    user = User.objects.create_user(username="bob", password="x-y-z-1-2-3-4")

    assert user.display_name == ""
    assert str(user) == "bob"
