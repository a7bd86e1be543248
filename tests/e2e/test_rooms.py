"""Rooms in a real browser: creating, joining, history and unread counts."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import unique

pytestmark = pytest.mark.e2e


def test_creating_a_room_opens_it_and_a_taken_name_is_a_form_error(sign_up):
    alice = sign_up()
    name = unique("Planning ")

    alice.create_room(name, topic="What we do next")
    expect(alice.page).to_have_url(re.compile(r"/r/planning-\w+/$"))
    sidebar = alice.page.locator("#sidebar")
    expect(sidebar.get_by_role("link", name=name)).to_be_visible()

    alice.page.goto("/rooms/")
    alice.page.get_by_label("Room name").fill(name)
    alice.page.get_by_role("button", name="Create room").click()
    field = alice.page.get_by_label("Room name")
    expect(alice.page.locator("#id_name_error")).to_contain_text("already exists")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", re.compile("id_name_error"))
    expect(field).to_have_value(name)


def test_a_visitor_reads_a_public_room_and_joins_it_to_post(sign_up):
    alice = sign_up("Alice")
    name = unique("Open ")
    alice.create_room(name)
    alice.expect_connected()
    alice.send("welcome, whoever reads this")
    expect(alice.messages("welcome, whoever reads this")).to_have_count(1)

    bob = sign_up("Bob")
    bob.page.goto("/rooms/")
    bob.page.get_by_role("button", name=f"Join {name}").wait_for(state="attached")
    bob.page.get_by_role("link", name=name, exact=True).click()
    expect(bob.messages("welcome, whoever reads this")).to_have_count(1)
    expect(bob.composer()).to_have_count(0)
    bob.page.get_by_role("button", name="Join room").click()

    expect(bob.composer()).to_be_visible()
    expect(bob.page.locator("#sidebar").get_by_role("link", name=name)).to_be_visible()
    bob.expect_connected()
    bob.send("thanks, here now")
    expect(alice.messages("thanks, here now")).to_have_count(1, timeout=2_000)


def test_a_message_in_another_room_raises_its_badge_until_read(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    bob.create_room(unique("Elsewhere "))
    bob.expect_connected()
    general = bob.page.locator("#sidebar li[data-slug='general']")
    expect(general.locator("[data-badge]")).to_be_hidden()

    alice.send("news in general")
    alice.send("more news in general")
    expect(general.locator("[data-badge]")).to_have_text("2 unread")
    expect(bob.page).to_have_title(re.compile(r"^\(2\) "))

    # Reading General in another tab clears the badge here too.
    other_tab = bob.page.context.new_page()
    other_tab.goto("/r/general/")
    expect(general.locator("[data-badge]")).to_be_hidden()
    expect(bob.page).not_to_have_title(re.compile(r"^\("))


def test_joining_and_leaving_in_one_tab_updates_the_sidebar_of_another(sign_up):
    alice = sign_up("Alice")
    name = unique("Drop-in ")
    alice.create_room(name)
    bob = sign_up("Bob")
    other_tab = bob.page.context.new_page()
    other_tab.goto("/rooms/")
    sidebar_link = bob.page.locator("#sidebar").get_by_role("link", name=name)

    other_tab.get_by_role("button", name=f"Join {name}").click()
    expect(sidebar_link).to_be_visible()
    alice.expect_connected()
    alice.send("ping from the new room")
    expect(sidebar_link.locator("[data-badge]")).to_have_text("1 unread")

    other_tab.locator("summary", has_text="Room options").click()
    other_tab.get_by_role("button", name="Leave room").click()
    expect(sidebar_link).to_have_count(0)


def test_a_deleted_message_becomes_a_placeholder_live_and_after_reload(
    sign_up, live_site
):
    alice = sign_up("Alice")
    text = unique("regrettable ")
    alice.send(text)
    expect(alice.messages(text)).to_have_count(1)
    message_id = alice.messages(text).get_attribute("data-id")

    live_site.manage(
        "shell",
        "-c",
        "from rooms.models import Message\n"
        "from rooms.services import message_delete\n"
        f"message = Message.objects.get(pk={int(message_id)})\n"
        "message_delete(actor=message.author, message=message)\n",
    )
    deleted = alice.page.locator(f".message[data-id='{message_id}'] [data-body]")
    expect(deleted).to_have_text("message deleted")
    expect(deleted).to_have_class(re.compile(r"\bdeleted\b"))
    alice.page.reload()
    expect(deleted).to_have_text("message deleted")
    expect(alice.page.get_by_text(text)).to_have_count(0)


def test_scrolling_up_loads_older_messages_and_keeps_the_view_still(sign_up, live_site):
    alice = sign_up()
    alice.create_room(unique("Archive "))
    slug = alice.page.url.rstrip("/").rsplit("/", 1)[-1]
    live_site.manage(
        "shell",
        "-c",
        "import uuid\n"
        "from accounts.models import User\n"
        "from rooms.models import Room\n"
        "from rooms.services import message_send\n"
        f"user = User.objects.get(username={alice.username!r})\n"
        f"room = Room.objects.get(slug={slug!r})\n"
        "for n in range(1, 61):\n"
        "    message_send(author=user, room=room, body=f'Message {n}',"
        " client_id=uuid.uuid4())\n",
    )
    page = alice.page
    page.reload()
    expect(alice.messages()).to_have_count(50)
    expect(alice.messages().first.locator("[data-body]")).to_have_text("Message 11")
    scroller = page.locator("[data-scroller]")
    assert scroller.evaluate("el => el.scrollTop") > 0, "a new page opens at the bottom"

    anchor = alice.messages("Message 11")
    scroller.evaluate("el => { el.scrollTop = 0; }")
    expect(alice.messages()).to_have_count(60)
    expect(alice.messages().first.locator("[data-body]")).to_have_text("Message 1")
    expect(page.locator("[data-history-note]")).to_contain_text("This is the start")
    # What the reader was looking at stays on screen; the new page is above it.
    assert scroller.evaluate("el => el.scrollTop") > 0
    expect(anchor).to_be_in_viewport()
    expect(alice.messages("Message 1")).not_to_be_in_viewport()


def test_a_visitor_of_a_room_made_private_is_told_and_hears_no_more(sign_up, live_site):
    alice = sign_up("Alice")
    name = unique("Open ")
    alice.create_room(name)
    alice.expect_connected()
    slug = alice.page.url.rstrip("/").rsplit("/", 1)[-1]
    bob = sign_up("Bob")
    bob.page.goto(f"/r/{slug}/")
    bob.expect_connected()
    expect(bob.page.get_by_role("button", name="Join room")).to_be_visible()

    live_site.manage(
        "shell",
        "-c",
        "from rooms.models import Room\n"
        "from rooms.services import room_edit\n"
        f"room = Room.objects.get(slug={slug!r})\n"
        "room_edit(room=room, name=room.name, topic=room.topic, kind='private')\n",
    )

    notice = "This room is now private: only its members can read it."
    expect(bob.page.locator(".join-bar")).to_have_text(notice)
    expect(bob.page.get_by_role("button", name="Join room")).to_have_count(0)
    secret = unique("members only ")
    alice.send(secret)
    expect(alice.messages(secret)).to_have_count(1)
    bob.page.wait_for_timeout(1_000)
    expect(bob.messages(secret)).to_have_count(0)
