"""Browser-test helpers: people who sign up through the real form, and rooms made the
way a person makes them. Every page a helper opens fails its test on a script error."""

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Locator, Page, expect

PASSWORD = "a-long-unusual-passphrase-42"


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@dataclass
class Person:
    page: Page
    username: str

    def messages(self, text: str | None = None) -> Locator:
        """Stored messages on screen (not those still sending), optionally by text."""
        found = self.page.locator("[data-message-list] .message[data-seq]")
        if text is not None:
            found = found.filter(
                has=self.page.locator(
                    "[data-body]", has_text=re.compile(f"^{re.escape(text)}$")
                )
            )
        return found

    def composer(self) -> Locator:
        return self.page.get_by_label("Message", exact=True)

    def send(self, text: str) -> None:
        self.composer().fill(text)
        self.page.get_by_role("button", name="Send").click()

    def expect_connected(self, transport: str = "WebSocket", **options) -> None:
        """Connected, and over this transport: WebSocket, event stream or polling."""
        expect(self.page.locator("[data-connection-status]")).to_have_text(
            f"Connected ({transport})", **options
        )

    def create_room(self, name: str, topic: str = "", private: bool = False) -> None:
        self.page.goto("/rooms/")
        self.page.get_by_label("Room name").fill(name)
        self.page.get_by_label("Topic").fill(topic)
        self.page.get_by_label("Private").set_checked(private)
        self.page.get_by_role("button", name="Create room").click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text(
            f"{name} Private" if private else f"#{name}"
        )

    def open_dm(self, username: str) -> None:
        """Starts (or reopens) a direct message from the page a name links to."""
        self.page.goto(f"/dm/?to={username}")
        expect(self.page.get_by_label("People", exact=True)).to_have_value(username)
        self.page.get_by_role("button", name="Start conversation").click()
        expect(self.page).to_have_url(re.compile(r"/r/dm-\w+/$"))

    def sidebar_list(self, name: str) -> Locator:
        """One of the sidebar's lists: "Rooms" or "Direct messages"."""
        return self.page.locator("#sidebar").get_by_role("list", name=name, exact=True)


def by_id(person: Person, message_id: str) -> Locator:
    return person.page.locator(f".message[data-id='{message_id}']")


def sent(person: Person, text: str) -> str:
    """Sends `text` and returns the id the server gave it."""
    person.send(text)
    expect(person.messages(text)).to_have_count(1)
    return person.messages(text).get_attribute("data-id")


def tool(message: Locator, name: str) -> Locator:
    """A button of the message's toolbar (shown on hover or focus)."""
    message.hover()
    return message.get_by_role("group", name="Message actions").get_by_role(
        "button", name=name
    )


def listen_to_frames(person: Person) -> list[str]:
    """The text of every frame the person's page receives on a socket opened from now
    on (reload the page to catch the one it has)."""
    frames: list[str] = []
    person.page.on(
        "websocket",
        lambda socket: socket.on(
            "framereceived",
            lambda payload: frames.append(
                payload if isinstance(payload, str) else payload.decode()
            ),
        ),
    )
    return frames


@pytest.fixture
def page_errors() -> Iterator[list[str]]:
    """Script errors on any helper-opened page; a test with one fails."""
    errors: list[str] = []
    yield errors
    assert errors == []


@pytest.fixture
def open_page(new_context, live_server_url, page_errors) -> Callable[..., Page]:
    """A fresh browser context (its own cookies: its own person) at the live site."""

    def open_(**options) -> Page:
        context = new_context(base_url=live_server_url, **options)
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        return page

    return open_


@pytest.fixture
def sign_up(open_page) -> Callable[..., Person]:
    """Signs a new person up through the form; they land in #General, connected."""

    def sign_up_(display_name: str = "", **options) -> Person:
        page = open_page(**options)
        username = unique("e2e_")
        page.goto("/accounts/signup/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Display name").fill(display_name)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_label("Password confirmation").fill(PASSWORD)
        page.get_by_role("button", name="Sign up").click()
        expect(page).to_have_url(re.compile(r"/r/general/$"))
        person = Person(page=page, username=username)
        person.expect_connected()
        return person

    return sign_up_


# Init scripts that take a transport's means away, as an old browser or a proxy does.
NO_WEBSOCKET = "delete window.WebSocket;"
NO_EVENTSOURCE = "delete window.EventSource;"


def on(person: Person, transport: str) -> Person:
    """Reloads the person's page in a browser that only has this transport's means."""
    scripts = {
        "WebSocket": [],
        "event stream": [NO_WEBSOCKET],
        "polling": [NO_WEBSOCKET, NO_EVENTSOURCE],
    }[transport]
    for script in scripts:
        person.page.context.add_init_script(script)
    person.page.reload()
    person.expect_connected(transport)
    return person
