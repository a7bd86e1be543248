"""Live connections end when their sign-in does (rooms/sessions.py)."""

import asyncio

import pytest
import redis
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.sessions.models import Session as SessionRow
from django.test import Client
from django.urls import reverse

from accounts.models import User
from rooms import events, sessions
from rooms.consumers import CLOSE_UNAUTHENTICATED
from rooms.sessions import still_signed_in
from tests import realtime
from tests.factories import PASSWORD, UserFactory
from tests.http import Session, read_events

pytestmark = [pytest.mark.django_db(transaction=True)]

TIMEOUT = 10


@database_sync_to_async
def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


async def open_socket(client: Client):
    """A socket on `client`'s session, past its hello."""
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    socket = await realtime.connect_with_cookie(cookie)
    assert socket.connected
    assert (await realtime.receive(socket, TIMEOUT))["type"] == "hello"
    return socket


async def closed_with(socket, reason: str) -> None:
    """The socket hears why it is signed out, then closes with 4401."""
    frame = await realtime.receive_until(socket, "signed_out", TIMEOUT)
    assert frame["reason"] == reason
    assert frame["message"]
    assert await socket.receive_output(TIMEOUT) == {
        "type": "websocket.close",
        "code": CLOSE_UNAUTHENTICATED,
    }


def session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_still_signed_in_follows_djangos_own_check():
    alice, bob = UserFactory(), UserFactory()
    client = Client()
    client.force_login(alice)
    key = session_key(client)

    assert still_signed_in(alice.pk, key)
    assert not still_signed_in(bob.pk, key)
    assert not still_signed_in(alice.pk, None)
    assert not still_signed_in(alice.pk, "no-such-session")

    alice.set_password("a whole new password")
    alice.save()
    assert not still_signed_in(alice.pk, key)


def test_still_signed_in_is_false_for_a_closed_account_and_an_ended_session():
    alice = UserFactory()
    first, second = Client(), Client()
    first.force_login(alice)
    second.force_login(alice)

    first.post(reverse("logout"))
    assert not still_signed_in(alice.pk, session_key(first))
    assert still_signed_in(alice.pk, session_key(second))

    alice.is_active = False
    alice.save()
    assert not still_signed_in(alice.pk, session_key(second))


def test_an_account_is_active_until_closed_however_it_is_closed():
    alice, bob = UserFactory(), UserFactory()

    assert sessions.account_active(alice.pk)
    User.objects.filter(pk=alice.pk).update(is_active=False)  # not through a save
    bob.is_active = False
    bob.save()

    assert not sessions.account_active(alice.pk)
    assert not sessions.account_active(bob.pk)
    assert not sessions.account_active(max(alice.pk, bob.pk) + 1)


def test_the_active_accounts_of_many_users_are_read_in_one_statement(
    django_assert_num_queries,
):
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    User.objects.filter(pk=bob.pk).update(is_active=False)
    gone = max(alice.pk, bob.pk, carol.pk) + 1

    with django_assert_num_queries(1):
        active = sessions.active_accounts([alice.pk, bob.pk, carol.pk, gone])

    assert active == {alice.pk, carol.pk}
    assert sessions.active_accounts([]) == set()


async def test_logging_out_closes_that_sessions_sockets_and_no_other():
    alice = await database_sync_to_async(UserFactory)()
    laptop, phone = await signed_in(alice), await signed_in(alice)
    laptop_tabs = [await open_socket(laptop), await open_socket(laptop)]
    phone_tab = await open_socket(phone)

    response = await database_sync_to_async(laptop.post)(reverse("logout"))

    assert response.status_code == 302
    for tab in laptop_tabs:
        await closed_with(tab, sessions.LOGGED_OUT)
    await realtime.still_open(phone_tab)
    await phone_tab.disconnect()


async def test_changing_the_password_closes_every_socket_of_the_user():
    alice = await database_sync_to_async(UserFactory)()
    bob = await database_sync_to_async(UserFactory)()
    laptop, phone = await signed_in(alice), await signed_in(alice)
    tabs = [await open_socket(laptop), await open_socket(phone)]
    bobs = await open_socket(await signed_in(bob))

    response = await database_sync_to_async(laptop.post)(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another long passphrase",
            "new_password2": "another long passphrase",
        },
    )

    assert response.status_code == 302
    for tab in tabs:
        await closed_with(tab, sessions.PASSWORD_CHANGED)
    await realtime.still_open(bobs)
    # The session that changed it stays signed in (Django keeps it), and may reconnect.
    again = await open_socket(laptop)
    await realtime.still_open(again)
    for socket in (again, bobs):
        await socket.disconnect()


async def test_a_socket_opened_after_a_password_change_is_not_ended_by_it():
    """The change's signed_out can still be on its way to Redis, queued behind
    another publish, when the session that made it opens a socket: it must not end
    that socket."""
    alice = await database_sync_to_async(UserFactory)()
    laptop = await signed_in(alice)
    # Redis holds writes (PUBLISH) for a moment and answers SUBSCRIBE at once: the
    # publish committed next stays in flight, and the change's waits behind it.
    redis.Redis.from_url(settings.REDIS_URL).client_pause(500, all=False)
    await database_sync_to_async(events.publish_on_commit)("room.0", {"type": "test"})
    await asyncio.sleep(0.05)

    response = await database_sync_to_async(laptop.post)(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another long passphrase",
            "new_password2": "another long passphrase",
        },
    )
    again = await open_socket(laptop)

    assert response.status_code == 302
    await realtime.still_open(again)
    await again.disconnect()


async def test_saving_an_account_as_inactive_closes_its_sockets():
    alice = await database_sync_to_async(UserFactory)()
    tab = await open_socket(await signed_in(alice))

    def untick_active():
        alice.is_active = False
        alice.save()

    await database_sync_to_async(untick_active)()

    await closed_with(tab, sessions.ACCOUNT_CLOSED)


async def test_a_socket_whose_session_vanishes_closes_at_its_next_recheck(settings):
    settings.CHAT_SESSION_RECHECK_SECONDS = 0.3
    alice = await database_sync_to_async(UserFactory)()
    client = await signed_in(alice)
    tab = await open_socket(client)
    other = await open_socket(await signed_in(alice))

    # Deleted behind Django's back: nothing is published, so only the re-check sees it.
    await database_sync_to_async(
        SessionRow.objects.filter(session_key=session_key(client)).delete
    )()

    await closed_with(tab, sessions.SESSION_ENDED)
    await realtime.still_open(other)
    await other.disconnect()


def test_logging_out_ends_that_sessions_event_stream_with_the_reason(live_server_url):
    reader = Session(live_server_url).signup()
    stream = reader.open("/api/stream", timeout=10)
    [(_, hello)] = read_events(stream, 1)
    assert hello["type"] == "hello"

    reader.logout()

    frames = []
    while not frames or frames[-1]["type"] != "signed_out":
        frames += [frame for _, frame in read_events(stream, 1)]
    assert frames[-1]["reason"] == sessions.LOGGED_OUT
    # Then the stream ends.
    assert stream.read().strip() == b""
