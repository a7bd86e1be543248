"""Direct messages in a real browser: started from a name, live on both sides, invisible
to everyone else; and where a reader left off ("New messages")."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import listen_to_frames, unique

pytestmark = pytest.mark.e2e


def test_a_dm_started_from_a_name_reaches_only_the_two_people_in_it(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    # Eve sits in General with the others the whole time, listening to her socket.
    eve = sign_up("Eve")
    frames = listen_to_frames(eve)
    eve.page.reload()
    eve.expect_connected()
    eve_entries = eve.page.locator("#sidebar li[data-slug]")
    expect(eve_entries).to_have_count(1)

    hello, mine = unique("anyone around? "), unique("alice here ")
    bob.send(hello)
    alice.send(mine)
    expect(alice.messages(hello)).to_have_count(1)
    expect(alice.messages(mine)).to_have_count(1)
    # One's own name is plain text; anyone else's starts a DM, from the keyboard too.
    expect(alice.messages(mine).locator("[data-author]")).not_to_have_attribute(
        "href", re.compile(".")
    )
    name = alice.messages(hello).get_by_role("link", name="Message Bob")
    expect(name).to_have_text("Bob")
    name.focus()
    alice.page.keyboard.press("Enter")
    expect(alice.page).to_have_url(re.compile(rf"/dm/\?to={bob.username}$"))
    expect(alice.page.get_by_label("People", exact=True)).to_have_value(bob.username)
    alice.page.get_by_role("button", name="Start conversation").click()
    expect(alice.page).to_have_url(re.compile(r"/r/dm-\w+/$"))
    dm_url = alice.page.url
    dm_slug = dm_url.rstrip("/").rsplit("/", 1)[-1]
    expect(alice.page.get_by_role("heading", level=1)).to_have_text("@Bob")
    expect(
        alice.sidebar_list("Direct messages").get_by_role("link")
    ).to_have_accessible_name("Bob")

    # Bob's General tab learns of it without a reload, under "Direct messages".
    bob_dm = bob.sidebar_list("Direct messages").get_by_role("link", name="Alice")
    expect(bob_dm).to_be_visible()
    expect(bob.sidebar_list("Rooms").get_by_role("link", name="Alice")).to_have_count(0)
    alice.expect_connected()
    first = unique("just between us ")
    alice.send(first)
    expect(bob_dm.locator("[data-badge]")).to_have_text("1 unread")
    bob_dm.click()
    expect(bob.page).to_have_url(dm_url)
    expect(bob.page.get_by_role("heading", level=1)).to_have_text("@Alice")
    expect(bob.messages(first)).to_have_count(1)
    bob.expect_connected()
    reply = unique("sure, what's up ")
    bob.send(reply)
    expect(alice.messages(reply)).to_have_count(1)
    expect(bob.messages(reply)).to_have_count(1)

    # General's next message reaches Eve; anything of the DM's would have come first.
    marker = unique("back in general ")
    bob.page.goto("/r/general/")
    bob.expect_connected()
    bob.send(marker)
    expect(eve.messages(marker)).to_have_count(1)
    assert any(marker in frame for frame in frames)
    for secret in (dm_slug, first, reply):
        assert not [frame for frame in frames if secret in frame], secret
        assert secret not in eve.page.content()
    expect(eve_entries).to_have_count(1)
    expect(eve.sidebar_list("Direct messages").get_by_role("link")).to_have_count(0)
    assert eve.page.goto(dm_url).status == 404
    for secret in (first, reply, "Alice", "Bob"):
        assert secret not in eve.page.content()


def test_a_reader_back_from_elsewhere_starts_at_new_messages(sign_up):
    # A short window, so what came while Alice was away does not fit on one screen.
    alice = sign_up("Alice", viewport={"width": 900, "height": 520})
    bob = sign_up("Bob")
    bob.open_dm(alice.username)
    dm_url = bob.page.url
    bob.expect_connected()
    bob.send("are you there?")

    # Alice's General tab shows the DM's badge; a second tab reads it, then goes away.
    dm_entry = alice.sidebar_list("Direct messages").locator("li[data-slug]")
    expect(dm_entry.locator("[data-badge]")).to_have_text("1 unread")
    elsewhere = alice.page.context.new_page()
    elsewhere.goto(dm_url)
    expect(elsewhere.locator(".unread-divider")).to_have_count(1)
    elsewhere.get_by_label("Message", exact=True).fill("one moment")
    elsewhere.get_by_role("button", name="Send").click()
    expect(dm_entry.locator("[data-badge]")).to_be_hidden()
    elsewhere.goto("/rooms/")

    lines = "\n".join(f"step {n}" for n in range(1, 7))
    news = [unique(f"update {n} ") for n in range(1, 5)]
    for text in news:
        bob.send(f"{text}\n{lines}")
    expect(dm_entry.locator("[data-badge]")).to_have_text("4 unread")
    expect(alice.page).to_have_title(re.compile(r"^\(4\) "))

    elsewhere.goto(dm_url)
    divider = elsewhere.locator(".unread-divider")
    expect(divider).to_have_count(1)
    expect(divider).to_have_text("New messages")
    # Right above the first message written since Alice last read, not above her own.
    first_new = elsewhere.locator(".message[data-seq]").filter(has_text=news[0])
    expect(divider.locator("xpath=following-sibling::li[1]")).to_have_attribute(
        "data-seq", first_new.get_attribute("data-seq")
    )
    expect(divider).to_be_in_viewport()
    expect(
        elsewhere.locator(".message[data-seq]").filter(has_text=news[-1])
    ).not_to_be_in_viewport()
    # Reading here clears the badge and the title in the other tab.
    expect(dm_entry.locator("[data-badge]")).to_be_hidden()
    expect(alice.page).not_to_have_title(re.compile(r"^\("))

    # The line stays while the room is open, and goes once it is reopened, all read.
    bob.send("one more thing")
    expect(dm_entry.locator("[data-badge]")).to_have_text("1 unread")
    expect(dm_entry.locator("[data-badge]")).to_be_hidden()
    expect(elsewhere.locator(".message[data-seq]")).to_have_count(7)
    expect(divider).to_have_count(1)
    elsewhere.reload()
    expect(elsewhere.locator(".message[data-seq]")).to_have_count(7)
    expect(divider).to_have_count(0)
