"""GET /api/presence: what a page asks to refresh the presence it shows."""

import pytest
from django.test import Client

from rooms import presence
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db]


def signed_in() -> Client:
    client = Client()
    client.force_login(UserFactory())
    return client


def test_it_answers_each_users_status_with_expiry_applied(settings):
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    presence.presence_connect(user_id=alice.pk, connection="alices-tab")
    presence.presence_connect(user_id=bob.pk, connection="bobs-tab-1")
    presence.presence_report(user_id=bob.pk, connection="bobs-tab-1", status="away")

    response = signed_in().get("/api/presence", {"user": [alice.pk, bob.pk, carol.pk]})

    assert response.status_code == 200
    assert response.json() == {
        "presence": {
            str(alice.pk): "online",
            str(bob.pk): "away",
            str(carol.pk): "offline",
        }
    }


def test_it_needs_a_session_and_well_formed_ids():
    assert Client().get("/api/presence", {"user": 1}).status_code == 401
    response = signed_in().get("/api/presence", {"user": "alice"})
    assert (response.status_code, response.json()["error"]["code"]) == (
        400,
        "invalid",
    )
    too_many = signed_in().get("/api/presence", {"user": list(range(1, 502))})
    assert too_many.status_code == 400
