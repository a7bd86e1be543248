"""ASGI entry point: HTTP goes to Django (its middleware run synchronously, except
for the event stream and the long poll: chatsite.http_handler); WebSockets pass the
origin check, then chatsite.socket_auth works out who is connecting."""

import contextvars
import gc
import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import reverse  # noqa: E402

from chatsite import lean_connections, write_through  # noqa: E402
from chatsite.http_handler import SyncMiddlewareHandler  # noqa: E402
from chatsite.request_threads import RequestThreads  # noqa: E402
from chatsite.socket_auth import SessionAuthMiddleware  # noqa: E402
from rooms.routing import websocket_application  # noqa: E402

# Under daphne, a delivery goes out in the same turn of the loop, and an open socket
# keeps less of the server's state (see the modules).
write_through.install()
lean_connections.install()

# Resolving a URL the first time sets a flag in an asgiref Local of every resolver, in
# the current context. Done in the server's own context, daphne would start each
# connection's task with those 16 Locals, and every database call would copy each one
# back into the task as a new object: 1.5 KB per socket, and work on every call
# (docs/performance.md). So the paths are resolved in a copy.
LONG_LIVED_PATHS = contextvars.copy_context().run(
    lambda: (reverse("rooms:api_stream"), reverse("rooms:api_poll"))
)

application = ProtocolTypeRouter(
    {
        "http": RequestThreads(
            SyncMiddlewareHandler(),
            threads=settings.CHAT_REQUEST_THREADS,
            long_lived=LONG_LIVED_PATHS,
            long_lived_app=django_asgi_app,
        ),
        "websocket": AllowedHostsOriginValidator(
            SessionAuthMiddleware(websocket_application)
        ),
    }
)

if not settings.REDIS_URL:
    logging.getLogger("chatsite").warning(
        "REDIS_URL is not set: using the in-memory channel layer. Live messages reach "
        "only sockets of this one process; set REDIS_URL to run several processes."
    )

# Everything built so far (Django's apps, URLconf, settings, the imported modules) lives
# as long as the process. Take it out of the garbage collector's reach: otherwise every
# full collection re-scans it and stalls the server, measured at 70-90 ms each, several
# times a minute under load (docs/performance.md).
gc.collect()
gc.freeze()
