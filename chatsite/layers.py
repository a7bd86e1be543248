"""The channel layer: channels-redis pub/sub, with one fan-out per process.

channels-redis' RedisPubSubChannelLayer already publishes a group message once and lets
Redis hand it to each subscribed process once. Inside the process it then copies the
raw bytes into every member consumer's queue, and each consumer wakes up, decodes them
and dispatches the event on its own (channels 4 also hops to the database thread before
every handler). With thousands of sockets in a group that per-member work is most of
the cost of a delivery.

This layer keeps everything else of the pub/sub layer and changes only that step: a
consumer may register a listener for its channel; a group message is then decoded once
per process, and the listeners of the group's members are awaited one after another in
the layer's receive task, in the order messages came from Redis. A listener returns
True when it has dealt with the event, False to have it queued for the consumer as
usual. Consumers that register nothing are served exactly as before.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close

logger = logging.getLogger(__name__)

Listener = Callable[[dict[str, Any]], Awaitable[bool]]


class FanoutShardConnection(RedisSingleShardConnection):
    async def _do_receiving(self) -> None:
        # As channels-redis' loop, but the fan-out is awaited here, so events reach
        # sockets in the order Redis delivered them.
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=0.1
                    )
                    if message is not None:
                        await self.channel_layer.dispatch(message)
                else:
                    await asyncio.sleep(0.1)
            except (TimeoutError, asyncio.CancelledError, GeneratorExit):
                raise
            except BaseException:
                logger.exception("Unexpected exception in receive task")
                await asyncio.sleep(1)


class FanoutLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listeners: dict[str, Listener] = {}
        self._shards = [FanoutShardConnection(s.host, self) for s in self._shards]

    async def receive(self, channel: str) -> Any:
        try:
            return await super().receive(channel)
        except (TimeoutError, asyncio.CancelledError, GeneratorExit):
            # The consumer is going away (channels cancels its receive): so is its
            # listener, whatever way it ended.
            self.listeners.pop(channel, None)
            raise

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
            if (queue := self.channels.get(channel)) is None:
                continue
            listener = self.listeners.get(channel)
            # Behind anything still queued for the consumer, an event waits its turn
            # in the queue too, so a socket sees events in order.
            if listener is not None and queue.empty():
                if event is None:
                    event = self.channel_layer.deserialize(data)
                try:
                    if await listener(event):
                        continue
                except Exception:
                    logger.exception("Listener of %s failed", channel)
                    continue
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

    def listen(self, channel: str, listener: Listener) -> None:
        """Hands group messages for `channel` to `listener` before its queue."""
        self._get_layer().listeners[channel] = listener

    def unlisten(self, channel: str) -> None:
        self._get_layer().listeners.pop(channel, None)
