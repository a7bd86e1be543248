"""Private rooms in a real browser: invite links, adding and removing people, and what
someone outside the room can see of it (nothing)."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Person, listen_to_frames, unique

pytestmark = pytest.mark.e2e


def open_members_page(person: Person) -> None:
    person.page.locator("summary", has_text="Room options").click()
    person.page.get_by_role("link", name="People").click()
    expect(person.page.get_by_role("heading", level=1)).to_contain_text("People in")


def test_an_invite_link_lets_people_in_until_it_is_revoked(sign_up):
    olive = sign_up("Olive")
    name = unique("Hideout ")
    olive.create_room(name, private=True)
    room_url = olive.page.url
    olive_link = olive.sidebar_list("Rooms").get_by_role("link", name=name)
    expect(olive_link).to_contain_text("(private)")
    expect(olive_link.locator(".lock")).to_be_visible()

    open_members_page(olive)
    olive.page.get_by_role("button", name="Create invite link").click()
    expect(olive.page.locator(".flash")).to_contain_text("Invite link created")
    invite_url = olive.page.get_by_label("Invite link", exact=True).input_value()
    assert "/invite/" in invite_url

    gus = sign_up("Gus")
    gus.page.goto(invite_url)
    expect(gus.page.get_by_role("heading", level=1)).to_have_text(f"Join #{name}")
    expect(gus.page.get_by_text("Olive invited you")).to_be_visible()
    gus.page.get_by_role("button", name="Join room").click()
    expect(gus.page).to_have_url(room_url)
    expect(gus.page.get_by_role("heading", level=1)).to_have_text(f"{name} Private")
    expect(
        gus.sidebar_list("Rooms").get_by_role("link", name=f"{name} (private)")
    ).to_have_attribute("aria-current", "page")
    expect(gus.sidebar_list("Direct messages").get_by_role("link")).to_have_count(0)

    olive.page.goto(room_url)
    for person in (olive, gus):
        person.expect_connected()
    olive.send("welcome to the hideout")
    expect(gus.messages("welcome to the hideout")).to_have_count(1)
    gus.send("glad to be here")
    expect(olive.messages("glad to be here")).to_have_count(1)

    open_members_page(olive)
    expect(olive.page.locator("[data-member]")).to_have_count(2)
    olive.page.get_by_role("button", name="Revoke").click()
    expect(olive.page.locator(".flash")).to_contain_text("revoked")
    expect(olive.page.get_by_label("Invite link", exact=True)).to_have_count(0)

    trudy = sign_up("Trudy")
    response = trudy.page.goto(invite_url)
    assert response.status == 404
    expect(trudy.page.get_by_role("heading", level=1)).to_have_text(
        "This invite doesn't work"
    )
    expect(trudy.page.get_by_role("button", name="Join room")).to_have_count(0)
    expect(trudy.page.locator("body")).not_to_contain_text(name)
    response = trudy.page.goto(room_url)
    assert response.status == 404
    expect(trudy.page.locator("body")).not_to_contain_text(name)
    trudy.page.goto("/r/general/")
    expect(trudy.sidebar_list("Rooms").get_by_role("link")).to_have_count(1)


def test_being_added_shows_the_room_live_and_being_removed_takes_it_away(sign_up):
    olive = sign_up("Olive")
    name = unique("Backroom ")
    olive.create_room(name, private=True)
    room_url = olive.page.url
    olive.expect_connected()

    # Pat's tab is open on General the whole time; nothing in it is reloaded.
    pat = sign_up("Pat")
    frames = listen_to_frames(pat)
    pat.page.reload()
    pat.expect_connected()
    rooms = pat.sidebar_list("Rooms")
    expect(rooms.get_by_role("link", name=name)).to_have_count(0)

    members = olive.page.context.new_page()
    members.goto(f"{room_url}members/")
    members.get_by_label("Username").fill(pat.username)
    members.get_by_role("button", name="Add to room").click()
    expect(members.locator(".flash")).to_contain_text(f"Added {pat.username}")

    link = rooms.get_by_role("link", name=f"{name} (private)")
    expect(link).to_be_visible()
    expect(link.locator(".lock")).to_be_visible()
    olive.send("hello Pat")
    expect(link.locator("[data-badge]")).to_have_text("1 unread")
    expect(pat.page).to_have_title(re.compile(r"^\(1\) "))

    members.get_by_role("button", name="Remove Pat").click()
    expect(members.locator(".flash")).to_contain_text("Removed Pat")
    expect(link).to_have_count(0)
    expect(pat.page).not_to_have_title(re.compile(r"^\("))

    secret = unique("after Pat left ")
    olive.send(secret)
    expect(olive.messages(secret)).to_have_count(1)
    # General's next message reaches Pat's socket; the room's would have come first.
    marker = unique("general marker ")
    olive.page.goto("/r/general/")
    olive.expect_connected()
    olive.send(marker)
    expect(pat.messages(marker)).to_have_count(1)
    assert not [frame for frame in frames if secret in frame]
    assert any("hello Pat" in frame for frame in frames)
    expect(pat.page.locator("body")).not_to_contain_text(secret)
    assert pat.page.goto(room_url).status == 404
