"""Django's ASGI handler with its middleware run synchronously, in one hop.

Under ASGI Django runs its middleware in async mode, and a middleware written the
classic way (all of Django's own, django-axes, django-csp) then hands each of its
process_request and process_response to a thread and back: about 18 thread hops per
request with this site's middleware. Those hops were half of the Python calls a
history request made, more than the session, user, access check and page together
(docs/performance.md). Here the whole middleware chain and the view run in one
synchronous call on the request's thread (chatsite.request_threads keeps a few).

Only for synchronous views: an async view behind this handler would hold a thread for
as long as it runs. The event stream and the long poll, the async views, keep
Django's own handler (chatsite.asgi).
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase


class SyncMiddlewareHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
