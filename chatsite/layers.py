"""The channel layer: channels-redis pub/sub, with one fan-out per process.

channels-redis' RedisPubSubChannelLayer already publishes a group message once and lets
Redis hand it to each subscribed process once. Inside the process it then copies the
raw bytes into every member consumer's queue, and each consumer wakes up, decodes them
and dispatches the event on its own (channels 4 also hops to the database thread before
every handler). With thousands of sockets in a group that per-member work is most of
the cost of a delivery.

This layer keeps everything else of the pub/sub layer and changes only that step. A
consumer may open a *listener channel*: a channel name with a listener (an async
callable) instead of a queue and a Redis subscription of its own. A group message is
then decoded once per process, and the listeners of the group's members are awaited
one after another in the layer's receive task, in the order messages came from Redis.
A listener returns True when it has dealt with the event; an event it declines is
dropped (a listener channel has no queue). Channels from `new_channel` are served
exactly as before, so consumers that know nothing of listeners keep working.

A listener channel is process-local by design: it can be a member of groups, but
`send()` to it from another process reaches no one. The chat only ever addresses
groups.

When the process's subscriber connection to Redis breaks, every listener and channel
hears CONNECTION_LOST: events published meanwhile are lost to them. They hear it again
when the subscriber is back. channels-redis counts a group as subscribed until Redis
confirms otherwise, so a connection may join its groups during the outage (and send:
the database does not need Redis); without the second notice it would stay deaf to
whatever was published before the subscriber came back, and never be told to catch up.
Leaving a group always succeeds locally, so a connection that ends during an outage
leaves none of its groups behind.
"""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

Listener = Callable[[dict[str, Any]], Awaitable[bool]]

# What every local listener and channel hears when the process's Redis connection
# breaks, and again when it is back: events published meanwhile are lost, so
# connections should close and let their clients reconnect and catch up from the
# database.
CONNECTION_LOST = {"type": "layer.connection_lost"}


class FanoutShardConnection(RedisSingleShardConnection):
    # From a failed read until a read succeeds again, which is after redis-py has
    # reconnected and subscribed to every channel again.
    _broken = False

    async def _do_receiving(self) -> None:
        # As channels-redis' loop, but the fan-out is awaited here, so events reach
        # sockets in the order Redis delivered them.
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=0.1
                    )
                    if self._broken:
                        self._broken = False
                        await self.channel_layer.connection_lost()
                    if message is not None:
                        await self.channel_layer.dispatch(message)
                else:
                    await asyncio.sleep(0.1)
            except (TimeoutError, asyncio.CancelledError, GeneratorExit):
                raise
            except BaseException:
                logger.exception("Unexpected exception in receive task")
                if not self._broken:
                    self._broken = True
                    await self.channel_layer.connection_lost()
                await asyncio.sleep(1)

    async def publish_many(self, messages: list[tuple[str, bytes]]) -> None:
        """PUBLISHes each (channel, data) in order, in one pipelined round trip."""
        async with self._lock:
            self._ensure_redis()
            async with self._redis.pipeline(transaction=False) as pipe:
                for channel, data in messages:
                    pipe.publish(channel, data)
                await pipe.execute()


class FanoutLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listeners: dict[str, Listener] = {}
        self._shards = [FanoutShardConnection(s.host, self) for s in self._shards]

    def open_listener(self, listener: Listener, prefix: str = "specific.") -> str:
        channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"
        self.listeners[channel] = listener
        return channel

    def close_listener(self, channel: str) -> None:
        self.listeners.pop(channel, None)

    async def group_add(self, group: str, channel: str) -> None:
        if channel in self.channels or channel not in self.listeners:
            await super().group_add(group, channel)
            return
        group_channel = self._get_group_channel_name(group)
        self.groups.setdefault(group_channel, set()).add(channel)
        await self._get_shard(group_channel).subscribe(group_channel)

    async def group_discard(self, group: str, channel: str) -> None:
        """Leaves the group here even if Redis cannot be told: the Redis subscription
        of a group left empty then stays (and is renewed on reconnect), which only
        costs messages nobody here takes."""
        try:
            await super().group_discard(group, channel)
        except (RedisConnectionError, RedisTimeoutError):
            logger.warning("Could not unsubscribe from %s; Redis is unreachable", group)

    async def group_send_many(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        """group_send for each (group, message), in order, in one round trip per shard
        instead of one per message."""
        by_shard: dict[FanoutShardConnection, list[tuple[str, bytes]]] = {}
        for group, message in messages:
            channel = self._get_group_channel_name(group)
            data = self.channel_layer.serialize(message)
            by_shard.setdefault(self._get_shard(channel), []).append((channel, data))
        for shard, published in by_shard.items():
            await shard.publish_many(published)

    async def connection_lost(self) -> None:
        """Tells every listener and channel of this process, when a break is noticed
        and when it is over."""
        data = self.channel_layer.serialize(CONNECTION_LOST)
        for channel, listener in tuple(self.listeners.items()):
            try:
                await listener(dict(CONNECTION_LOST))
            except Exception:
                logger.exception("Listener of %s failed", channel)
        for queue in tuple(self.channels.values()):
            queue.put_nowait(data)

    async def dispatch(self, message: dict[str, Any]) -> None:
        name, data = message["channel"], message["data"]
        if isinstance(name, bytes):
            name = name.decode()
        if (queue := self.channels.get(name)) is not None:
            queue.put_nowait(data)
            return
        members = self.groups.get(name)
        if not members:
            return
        event = None
        for channel in tuple(members):
            if (listener := self.listeners.get(channel)) is not None:
                if event is None:
                    event = self.channel_layer.deserialize(data)
                try:
                    if not await listener(event):
                        logger.warning("%s declined a %s event", channel, event["type"])
                except Exception:
                    logger.exception("Listener of %s failed", channel)
            elif (queue := self.channels.get(channel)) is not None:
                queue.put_nowait(data)


class FanoutPubSubChannelLayer(RedisPubSubChannelLayer):
    """RedisPubSubChannelLayer plus `listen`: see the module's docstring."""

    def _get_layer(self) -> FanoutLoopLayer:
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = FanoutLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer

    def open_listener(self, listener: Listener) -> str:
        """A new process-local channel whose group messages go to `listener`."""
        return self._get_layer().open_listener(listener)

    def close_listener(self, channel: str) -> None:
        self._get_layer().close_listener(channel)

    async def group_send_many(self, messages: list[tuple[str, dict[str, Any]]]) -> None:
        """Sends each (group, message) in order, as group_send would one by one."""
        await self._get_layer().group_send_many(messages)
