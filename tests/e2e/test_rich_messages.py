"""Rich messages in a real browser: Markdown that renders and never runs, and editing,
deleting, reacting and replying, live between two people."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import by_id, sent, tool, unique

pytestmark = pytest.mark.e2e

# Each tries to run script: an alert (a dialog) or a flag on window.
ATTACKS = [
    "<script>alert(1);window.__xss=1</script>",
    '<img src=x onerror="alert(1);window.__xss=1">',
    '<svg onload="alert(1);window.__xss=1"><circle r="9"/></svg>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javascript:alert(1)">an html link</a>',
    "[click me](javascript:alert(1))",
    "[or me](JaVaScRiPt:window.__xss=1)",
    "[tab](java&#x09;script:alert(1))",
    "[entity](&#106;avascript:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>",
    '![pic](x" onerror="alert(1))',
    '[quote](https://example.com" onmouseover="alert(1))',
    'https://example.com/"onmouseover="alert(1)"',
    "**<img src=x onerror=alert(1)>**",
    "```\n<script>alert(1)</script>\n```",
    "> <details open ontoggle=alert(1)>",
]


def watch_dialogs(page: Page) -> list[str]:
    dialogs: list[str] = []

    def seen(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", seen)
    return dialogs


def test_markdown_renders_and_no_attack_in_a_message_runs(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    dialogs = [watch_dialogs(alice.page), watch_dialogs(bob.page)]

    for attack in ATTACKS:
        alice.send(attack)
    rich = unique("**bold** _it_ ~~gone~~ `x < y` [docs](https://example.com/docs) ")
    alice.send(rich + "\n- one\n- two\n\n> quoted")
    last = unique("the end ")
    alice.send(last)

    for person in (bob, alice, bob):
        expect(person.messages(last)).to_have_count(1)
        message = person.messages().filter(
            has=person.page.locator("li", has_text="one")
        )
        body = message.last.locator("[data-body]")
        expect(body.locator("strong")).to_have_text("bold")
        expect(body.locator("em")).to_have_text("it")
        expect(body.locator("s")).to_have_text("gone")
        expect(body.locator("code")).to_have_text("x < y")
        expect(body.locator("li")).to_have_count(2)
        expect(body.locator("blockquote")).to_have_text("quoted")
        link = body.get_by_role("link", name="docs")
        expect(link).to_have_attribute("href", "https://example.com/docs")
        expect(link).to_have_attribute("target", "_blank")
        expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")

        listed = person.page.locator("[data-message-list]")
        bodies = listed.locator("[data-body], [data-reply-quote]")
        # Typed markup shows as the characters typed.
        expect(person.messages(ATTACKS[0])).to_have_count(1)
        expect(
            bodies.locator("script, img, svg, iframe, details, [style]")
        ).to_have_count(0)
        expect(
            listed.locator("script, iframe, [onerror], [onload], [ontoggle]")
        ).to_have_count(0)
        hrefs = listed.locator("[data-body] a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        assert all(re.match(r"(https?|mailto):", href or "") for href in hrefs), hrefs
        # Touch what an attack would need touched: hover every body, click the text
        # that tried to be a script link.
        for body in person.messages().locator("[data-body]").all()[-len(ATTACKS) - 2 :]:
            body.hover()
        person.page.get_by_text("[click me](javascript:alert(1))").click()
        person.page.reload()
        person.expect_connected()

    for page_dialogs, person in zip(dialogs, (alice, bob), strict=True):
        assert page_dialogs == []
        assert person.page.evaluate("typeof window.__xss") == "undefined"


def test_an_edit_shows_live_for_everyone_marked_edited(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    text = unique("helo wrold ")
    message_id = sent(alice, text)
    expect(bob.messages(text)).to_have_count(1)
    mine = by_id(alice, message_id)

    tool(mine, "Edit message").click()
    editor = mine.get_by_role("textbox", name="Edit message")
    expect(editor).to_be_focused()
    expect(editor).to_have_value(text)
    editor.press("End")
    editor.type(" typo")
    editor.press("Escape")
    expect(editor).to_have_count(0)
    expect(alice.messages(text)).to_have_count(1)
    expect(tool(mine, "Edit message")).to_be_focused()

    # The keyboard alone: Enter on the focused Edit button, then Enter saves.
    alice.page.keyboard.press("Enter")
    expect(editor).to_be_focused()
    suffix = unique("")
    editor.fill(f"hello **world** {suffix}")
    editor.press("Enter")

    new = f"hello world {suffix}"
    for person in (alice, bob):
        message = by_id(person, message_id)
        expect(message.locator("[data-body]")).to_have_text(new)
        expect(message.locator("[data-body] strong")).to_have_text("world")
        expect(message.locator("[data-state]")).to_have_text("(edited)")
        expect(message.locator("[data-state]")).to_be_visible()
    expect(editor).to_have_count(0)
    expect(bob.messages(text)).to_have_count(0)
    # Only its author may edit or delete it.
    theirs = by_id(bob, message_id)
    expect(tool(theirs, "Reply")).to_be_visible()
    expect(tool(theirs, "Edit message")).to_be_hidden()
    expect(tool(theirs, "Delete message")).to_be_hidden()

    bob.page.reload()
    expect(by_id(bob, message_id).locator("[data-body]")).to_have_text(new)
    expect(by_id(bob, message_id).locator("[data-state]")).to_have_text("(edited)")


def test_an_edit_the_server_refuses_keeps_the_editor_open_with_the_reason(sign_up):
    alice = sign_up("Alice")
    text = unique("short ")
    message_id = sent(alice, text)
    mine = by_id(alice, message_id)
    limit = alice.page.evaluate(
        "JSON.parse(document.getElementById('client-state').textContent).max_length"
    )

    tool(mine, "Edit message").click()
    editor = mine.get_by_role("textbox", name="Edit message")
    editor.fill("x" * (limit + 1))
    editor.press("Enter")
    expect(mine.get_by_role("alert")).to_contain_text(f"limit is {limit:,}")
    editor.fill("   ")
    editor.press("Enter")
    expect(mine.get_by_role("alert")).to_contain_text("use Delete")
    expect(editor).to_be_focused()
    mine.get_by_role("button", name="Cancel").click()
    expect(mine.locator("[data-body]")).to_have_text(text)


def test_deleting_asks_first_then_shows_a_placeholder_live(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    text = unique("regrettable ")
    message_id = sent(alice, text)
    expect(bob.messages(text)).to_have_count(1)
    mine = by_id(alice, message_id)

    tool(mine, "Delete message").click()
    cancel = mine.get_by_role("button", name="Cancel")
    expect(cancel).to_be_focused()
    expect(
        mine.get_by_role("group", name="Delete this message for everyone?")
    ).to_be_visible()
    alice.page.keyboard.press("Escape")
    expect(cancel).to_have_count(0)
    expect(tool(mine, "Delete message")).to_be_focused()
    alice.page.keyboard.press("Enter")
    mine.get_by_role("button", name="Yes, delete").click()

    for person in (alice, bob):
        message = by_id(person, message_id)
        expect(message.locator("[data-body]")).to_have_text("message deleted")
        expect(message.locator("[data-body]")).to_have_class(re.compile(r"\bdeleted\b"))
        expect(message.get_by_role("group", name="Message actions")).to_be_hidden()
    bob.page.reload()
    expect(by_id(bob, message_id).locator("[data-body]")).to_have_text(
        "message deleted"
    )
    expect(bob.page.get_by_text(text)).to_have_count(0)


def test_reactions_show_live_with_counts_and_who_reacted(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    text = unique("lunch at noon? ")
    message_id = sent(alice, text)
    expect(bob.messages(text)).to_have_count(1)
    theirs, mine = by_id(bob, message_id), by_id(alice, message_id)

    # Bob, by keyboard: the picker opens on its first emoji, Enter picks it.
    tool(theirs, "React to this message").focus()
    bob.page.keyboard.press("Enter")
    picker = theirs.get_by_role("group", name="Add a reaction")
    expect(picker.get_by_role("button").first).to_be_focused()
    bob.page.keyboard.press("Enter")
    expect(picker).to_have_count(0)

    for message, pressed in ((mine, "false"), (theirs, "true")):
        chip = message.locator(".reaction", has_text="👍")
        expect(chip).to_have_text("👍1")
        expect(chip).to_have_attribute("title", "Bob reacted with 👍")
        expect(chip).to_have_attribute("aria-pressed", pressed)
        expect(chip).to_have_accessible_name(re.compile(r"^👍 1: Bob"))

    mine.locator(".reaction", has_text="👍").click()
    for message in (mine, theirs):
        chip = message.locator(".reaction", has_text="👍")
        expect(chip).to_have_text("👍2")
        expect(chip).to_have_attribute("title", "Bob and Alice reacted with 👍")
    expect(mine.locator(".reaction", has_text="👍")).to_have_attribute(
        "aria-pressed", "true"
    )

    # Any emoji, typed; plain text is refused before it is sent.
    tool(mine, "React to this message").click()
    other = mine.get_by_role("textbox", name="Any emoji")
    other.fill("lol")
    other.press("Enter")
    expect(mine.get_by_role("alert")).to_have_text("Type or paste a single emoji.")
    other.fill("🦄")
    other.press("Enter")
    for message in (mine, theirs):
        expect(message.locator(".reaction", has_text="🦄")).to_have_text("🦄1")

    theirs.locator(".reaction", has_text="👍").click()
    for message in (mine, theirs):
        expect(message.locator(".reaction", has_text="👍")).to_have_text("👍1")
        expect(message.locator(".reaction", has_text="👍")).to_have_attribute(
            "title", "Alice reacted with 👍"
        )

    bob.page.reload()
    theirs = by_id(bob, message_id)
    expect(theirs.locator(".reaction")).to_have_text(["👍1", "🦄1"])
    expect(theirs.locator(".reaction").first).to_have_attribute("aria-pressed", "false")


def test_a_reply_quotes_its_parent_live_and_the_composer_can_cancel_it(sign_up):
    alice = sign_up("Alice")
    bob = sign_up("Bob")
    question = unique("which day works? ")
    parent_id = sent(alice, question)
    parent = by_id(bob, parent_id)

    tool(parent, "Reply").click()
    bar = bob.page.locator("[data-reply-bar]")
    expect(bar).to_contain_text(f"Replying to Alice {question}")
    expect(bob.composer()).to_be_focused()
    bob.page.keyboard.press("Escape")
    expect(bar).to_be_hidden()
    tool(parent, "Reply").click()
    expect(bar).to_be_visible()
    answer = unique("tuesday ")
    bob.composer().fill(answer)
    bob.composer().press("Enter")
    expect(bar).to_be_hidden()

    for person in (bob, alice):
        reply = person.messages(answer)
        expect(reply).to_have_count(1)
        quote = reply.get_by_role("button", name=re.compile("^In reply to"))
        expect(quote).to_have_text(re.compile(f"Alice\\s*{re.escape(question)}"))
    by_id(alice, parent_id).hover()
    alice.messages(answer).get_by_role(
        "button", name=re.compile("^In reply to")
    ).click()
    expect(by_id(alice, parent_id)).to_have_class(re.compile(r"\bhighlight\b"))
    expect(by_id(alice, parent_id)).to_be_focused()


def test_a_replys_quote_jumps_to_a_parent_far_back_loading_older_pages(
    sign_up, live_site
):
    alice = sign_up("Alice")
    alice.create_room(unique("Threads "))
    slug = alice.page.url.rstrip("/").rsplit("/", 1)[-1]
    live_site.manage(
        "shell",
        "-c",
        "from accounts.models import User\n"
        "from rooms.models import Room\n"
        "from rooms.services import message_send\n"
        f"user = User.objects.get(username={alice.username!r})\n"
        f"room = Room.objects.get(slug={slug!r})\n"
        "parent = message_send(author=user, room=room, body='The first question').message\n"
        "for n in range(1, 111):\n"
        "    message_send(author=user, room=room, body=f'Filler {n}')\n"
        "message_send(author=user, room=room, body='The late answer',"
        " reply_to=parent.pk)\n",
    )
    page = alice.page
    page.reload()
    alice.expect_connected()
    expect(alice.messages()).to_have_count(50)
    expect(alice.messages("The first question")).to_have_count(0)

    quote = alice.messages("The late answer").get_by_role(
        "button", name=re.compile("^In reply to")
    )
    expect(quote).to_contain_text("The first question")
    quote.press("Enter")

    parent = alice.messages("The first question")
    expect(parent).to_have_count(1)
    expect(parent).to_have_class(re.compile(r"\bhighlight\b"))
    expect(parent).to_be_in_viewport()
    expect(parent).to_be_focused()
    expect(alice.messages()).to_have_count(112)
