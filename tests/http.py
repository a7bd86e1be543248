"""A cookie-keeping HTTP client for tests against a live daphne (no browser needed)."""

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.factories import PASSWORD


class Session:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar)
        )

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def open(self, path: str, *, data: bytes | None = None, headers=None, timeout=10):
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=headers or {}
        )
        try:
            return self.opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as error:
            return error

    def signup(self, username: str | None = None) -> "Session":
        """Signs up through the real form; the session is then logged in."""
        self.username = username or f"u{uuid.uuid4().hex[:10]}"
        self.open("/accounts/signup/").read()
        form = {
            "username": self.username,
            "display_name": self.username.title(),
            "password1": PASSWORD,
            "password2": PASSWORD,
            "csrfmiddlewaretoken": self.cookie("csrftoken"),
        }
        self.open(
            "/accounts/signup/",
            data=urllib.parse.urlencode(form).encode(),
            headers={"Referer": self.base_url + "/accounts/signup/"},
        ).read()
        assert any(c.name == "sessionid" for c in self.jar), "sign-up did not log in"
        return self

    def logout(self) -> None:
        """Logs out through the real view (a POST, as Django asks)."""
        response = self.open(
            "/accounts/logout/",
            data=urllib.parse.urlencode(
                {"csrfmiddlewaretoken": self.cookie("csrftoken")}
            ).encode(),
            headers={"Referer": self.base_url + "/"},
        )
        response.read()
        assert not any(c.name == "sessionid" for c in self.jar), "still logged in"

    def get_json(self, path: str, **kwargs) -> tuple[int, Any]:
        response = self.open(path, **kwargs)
        return response.status, json.loads(response.read())

    def post_frame(self, frame: dict[str, Any] | str) -> tuple[int, Any]:
        body = frame if isinstance(frame, str) else json.dumps(frame)
        response = self.open(
            "/api/frames",
            data=body.encode(),
            headers={
                "Content-Type": "application/json",
                "X-CSRFToken": self.cookie("csrftoken"),
                "Referer": self.base_url + "/",
            },
        )
        return response.status, json.loads(response.read())

    @contextmanager
    def websocket(self, **options: Any) -> Iterator[ClientConnection]:
        """A WebSocket to the site with this session's cookie and the site's origin,
        as a browser tab opens it, past its hello frame. `options` go to websockets'
        connect (a socket of one's own, queue and size limits)."""
        url = urllib.parse.urlsplit(self.base_url)
        with connect(
            f"ws://{url.netloc}/ws/",
            origin=self.base_url,
            additional_headers={"Cookie": f"sessionid={self.cookie('sessionid')}"},
            open_timeout=10,
            **options,
        ) as socket:
            hello = json.loads(socket.recv(timeout=10))
            assert hello["type"] == "hello"
            assert hello["user"]["username"] == self.username
            yield socket

    def send(self, room: str, body: str) -> dict[str, Any]:
        status, answer = self.post_frame(
            {"type": "send", "room": room, "body": body, "client_id": str(uuid.uuid4())}
        )
        assert status == 200, answer
        (ack,) = answer["frames"]
        assert ack["type"] == "ack", ack
        return ack


def read_events(response, count: int) -> list[tuple[str, dict[str, Any]]]:
    """Reads `count` events from an event stream as (id, frame) pairs."""
    found: list[tuple[str, dict[str, Any]]] = []
    event_id = ""
    while len(found) < count:
        line = response.readline().decode()
        if not line:
            raise EOFError("the stream ended")
        line = line.rstrip("\n")
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            found.append((event_id, json.loads(line[6:])))
    return found
