"""chatsite.session_store: Django's database sessions, loaded with one statement."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from chatsite.session_store import SessionStore
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db]


class Request:
    def __init__(self, session) -> None:
        self.session = session


def test_a_session_loads_as_djangos_own_store_loads_it():
    alice = UserFactory()
    client = Client()
    client.force_login(alice)
    key = client.session.session_key

    ours, django = SessionStore(key), DjangoStore(key)

    assert ours.load() == django.load() != {}
    assert get_user(Request(SessionStore(key))) == alice


def test_an_expired_or_unknown_session_loads_empty_and_drops_its_key(
    django_assert_num_queries,
):
    store = DjangoStore()
    store["note"] = "kept"
    store.create()
    Session.objects.filter(pk=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    expired, unknown = SessionStore(store.session_key), SessionStore("x" * 32)
    with django_assert_num_queries(1):
        assert expired.load() == {}
    assert unknown.load() == {}

    assert expired.session_key is None and unknown.session_key is None


def test_a_session_saved_here_loads_in_djangos_own_store():
    store = SessionStore()
    store["note"] = "kept"
    store.create()

    assert DjangoStore(store.session_key).load() == {"note": "kept"}
