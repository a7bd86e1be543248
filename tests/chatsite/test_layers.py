"""chatsite.layers: group messages reach every member in every process through a real
Redis, each once, and each process's messages in the order it sent them.

Two layer instances stand for two daphne processes: each has its own subscriber
connection to the test Redis."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings

from chatsite.layers import FanoutPubSubChannelLayer


def new_layer(cls=FanoutPubSubChannelLayer):
    return cls(**settings.CHANNEL_LAYERS["default"]["CONFIG"])


class Heard:
    """A listener that keeps what it hears, and lets a test wait for a given event."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self._changed = asyncio.Event()

    async def __call__(self, event: dict) -> bool:
        self.events.append(event)
        self._changed.set()
        return True

    def texts(self) -> list[str]:
        return [event["text"] for event in self.events]

    async def until(self, text: str) -> None:
        async with asyncio.timeout(5):
            while text not in self.texts():
                self._changed.clear()
                await self._changed.wait()


@asynccontextmanager
async def listening(layer, group: str) -> AsyncIterator[Heard]:
    heard = Heard()
    channel = layer.open_listener(heard)
    await layer.group_add(group, channel)
    try:
        yield heard
    finally:
        await layer.group_discard(group, channel)
        layer.close_listener(channel)
        await layer.flush()


def event(text: str) -> dict:
    return {"type": "chat.event", "text": text}


async def test_a_group_message_reaches_listeners_here_and_elsewhere_once():
    here, there = new_layer(), new_layer()
    group = f"room.{uuid.uuid4().hex}"
    async with listening(here, group) as near, listening(there, group) as far:
        await here.group_send(group, event("one"))
        await here.group_send(group, event("two"))
        await far.until("two")
        # "three" comes on the same subscriber connections after "one" and "two": had
        # either been delivered twice, the copy would be here by now.
        await there.group_send(group, event("three"))
        await near.until("three")
        assert near.texts() == ["one", "two", "three"]
        assert far.texts() == ["one", "two", "three"]
        assert near.events[0] == event("one")


async def test_each_processs_messages_reach_every_member_in_the_order_sent():
    here, there = new_layer(), new_layer()
    group = f"room.{uuid.uuid4().hex}"
    async with listening(here, group) as near, listening(there, group) as far:
        for n in range(20):
            sender = here if n % 2 else there
            await sender.group_send(group, event(f"{n % 2}:{n}"))
        await near.until("0:18")
        await far.until("1:19")
        await near.until("1:19")
        await far.until("0:18")
        for heard in (near, far):
            for origin in ("0", "1"):
                mine = [t for t in heard.texts() if t.startswith(origin)]
                assert mine == [
                    f"{origin}:{n}" for n in range(20) if n % 2 == int(origin)
                ]


async def test_a_message_from_a_plain_channels_redis_layer_is_delivered_as_it_is():
    here, plain = new_layer(), new_layer(RedisPubSubChannelLayer)
    group = f"room.{uuid.uuid4().hex}"
    async with listening(here, group) as near:
        await plain.group_send(group, event("from an older process"))
        await near.until("from an older process")
        assert near.events == [event("from an older process")]
    await plain.flush()


async def test_a_group_with_no_member_in_the_sending_process_still_hears_it():
    here, there = new_layer(), new_layer()
    group = f"room.{uuid.uuid4().hex}"
    async with listening(there, group) as far:
        await here.group_send(group, event("for whoever follows"))
        await far.until("for whoever follows")
        assert far.texts() == ["for whoever follows"]
    await here.flush()


async def test_messages_sent_together_reach_each_group_in_the_order_given():
    here, there = new_layer(), new_layer()
    first, second = f"room.{uuid.uuid4().hex}", f"room.{uuid.uuid4().hex}"
    async with listening(there, first) as one, listening(there, second) as two:
        await here.group_send_many(
            [(first if n % 3 else second, event(f"m{n}")) for n in range(30)]
        )
        await one.until("m29")
        await two.until("m27")
        assert one.texts() == [f"m{n}" for n in range(30) if n % 3]
        assert two.texts() == [f"m{n}" for n in range(30) if not n % 3]
        # And the layer's own group_send still comes after them, in order.
        await here.group_send(second, event("after"))
        await two.until("after")
        assert two.texts()[-2:] == ["m27", "after"]
    await here.flush()
