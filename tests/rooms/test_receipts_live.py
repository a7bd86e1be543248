"""Read receipts reach the other members' open pages, and no one else.

Where a socket must NOT receive a receipt, a message posted afterwards (a sentinel)
must be the next frame: events from one process reach a socket in the order they were
published, so the receipt never came."""

import pytest
from channels.db import database_sync_to_async

from accounts import services as account_services
from rooms import services
from tests import realtime
from tests.factories import RoomFactory, UserFactory, member, send

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10


@database_sync_to_async
def small_room(*names: str, **options):
    room = RoomFactory()
    people = [
        member(room, UserFactory(username=f"{name}{room.pk}", **options))
        for name in names
    ]
    return room, people


async def connected(user):
    socket = await realtime.connect(user)
    await realtime.receive_until(socket, "hello", TIMEOUT)
    return socket


async def next_is_sentinel(socket, body: str) -> None:
    frame = await realtime.receive(socket, TIMEOUT)
    assert frame["type"] == "message", f"expected only the sentinel, got {frame}"
    assert frame["message"]["body"] == body


async def reading_tells_the_author_nothing(room, author, reader) -> None:
    """`reader` reads the author's message while the author's page is open, and the
    author's socket hears no receipt. The author posts the sentinel: their own
    message comes back to them, so it must be their socket's next frame."""
    await database_sync_to_async(send)(room, author, "hello")
    authors_tab = await connected(author)

    await database_sync_to_async(services.membership_mark_read)(
        user=reader, room=room, seq=1
    )
    await database_sync_to_async(send)(room, author, "sentinel")

    await next_is_sentinel(authors_tab, "sentinel")
    await authors_tab.disconnect()


async def test_when_a_member_reads_then_the_others_see_it_live():
    room, (alice, bob) = await small_room("alice", "bob")
    await database_sync_to_async(send)(room, alice, "hello bob")
    alices_tab = await connected(alice)

    await database_sync_to_async(services.membership_mark_read)(
        user=bob, room=room, seq=1
    )

    assert await realtime.receive_until(alices_tab, "receipt", TIMEOUT) == {
        "type": "receipt",
        "room": room.slug,
        "members": 2,
        "user": {"id": bob.pk, "username": bob.username, "name": bob.shown_name},
        "seq": 1,
    }
    await alices_tab.disconnect()


async def test_when_an_outsider_reads_a_small_public_room_then_no_receipt_reaches_them():
    room, (alice, bob) = await small_room("alice", "bob")
    outsider = await database_sync_to_async(UserFactory)()
    await database_sync_to_async(send)(room, alice, "hello bob")
    watcher = await connected(outsider)
    # Reading the public room follows its group, as an open room page does.
    await realtime.send(watcher, {"type": "resume", "rooms": {room.slug: 1}})
    assert (await realtime.receive(watcher, TIMEOUT))["type"] == "messages"

    await database_sync_to_async(services.membership_mark_read)(
        user=bob, room=room, seq=1
    )
    await database_sync_to_async(send)(room, alice, "sentinel")

    await next_is_sentinel(watcher, "sentinel")
    await watcher.disconnect()


async def test_when_the_reader_does_not_share_receipts_then_no_receipt_goes_out():
    room, (alice,) = await small_room("alice")
    quiet = await database_sync_to_async(
        lambda: member(room, UserFactory(share_read_receipts=False))
    )()
    await reading_tells_the_author_nothing(room, alice, quiet)


async def test_when_a_room_is_too_big_then_reads_send_no_receipts(settings):
    settings.CHAT_RECEIPTS_MAX_MEMBERS = 2
    room, (alice, bob, _carol) = await small_room("alice", "bob", "carol")
    await reading_tells_the_author_nothing(room, alice, bob)


async def test_when_someone_stops_sharing_then_open_pages_drop_them():
    room, (alice, bob) = await small_room("alice", "bob")
    alices_tab = await connected(alice)

    await database_sync_to_async(account_services.user_update_profile)(
        user=bob, display_name="Bob", share_read_receipts=False
    )

    receipt = await realtime.receive_until(alices_tab, "receipt", TIMEOUT)
    assert (receipt["user"]["id"], receipt["seq"]) == (bob.pk, None)
    await alices_tab.disconnect()
