"""Screenshots of the room page for docs/screenshots/, from a real daphne and Chromium.

Run it on purpose, not as a test: `.venv/bin/python -m tests.e2e.screenshots`. It seeds
a throwaway site with a small conversation (a few messages Ada has not read yet, a
private room, a direct message), logs in through the form, and saves the room, and a
private room's members page as its owner sees it, at 1280x800 in light and dark, and
at 390x844 (a phone) in light.
"""

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.conftest import CHROMIUM
from tests.servers import ROOT, Daphne, RedisServer, Site

OUT = ROOT / "docs" / "screenshots"
PASSWORD = "screenshot-passphrase-42"

# Seeded through the service layer like any message. Timestamps are then spread over
# the last hour so the page shows grouping and times as a real room would.
SEED = f"""
from datetime import timedelta
import uuid
from django.utils import timezone
from accounts.services import user_create
from rooms.models import Membership, Message, Room
from rooms.services import (
    dm_open, invite_create, membership_add, membership_join, message_send, room_create,
)

people = {{
    name: user_create(username=name.lower(), password={PASSWORD!r}, display_name=name)
    for name in ["Ada", "Grace", "Linus", "Margaret"]
}}
general = Room.objects.get(slug="general")
design = room_create(
    creator=people["Grace"], name="Design", topic="Pixels and words", kind="private"
)
ops = room_create(creator=people["Linus"], name="Ops", topic="Deploys, alerts")
for name, person in people.items():
    membership_join(user=person, room=ops)
    if name != "Grace":
        membership_add(actor=people["Grace"], room=design, username=name.lower())
Membership.objects.filter(room=design, user=people["Ada"]).update(role="moderator")
invite_create(actor=people["Grace"], room=design)

conversation = [
    ("Grace", 58, "Morning all! The new build is on staging."),
    ("Grace", 57, "Release notes are in the usual place."),
    ("Linus", 41, "Looks good here. One thing: the reconnect banner flickers on slow Wi-Fi."),
    ("Margaret", 33, "I can reproduce that. It goes away once the socket settles."),
    ("Margaret", 32, "Checklist before we ship:\\n- flicker fix\\n- dark mode contrast\\n- phone layout"),
    ("Ada", 12, "I'll take dark mode. <b>Tags</b> like this should show as plain text, by the way."),
    ("Grace", 4, "Perfect, thanks @ada!"),
    ("Linus", 2, "Flicker fix is up for review."),
    ("Ada", 1, "Reviewing now."),
]
now = timezone.now()
for name, minutes_ago, body in conversation:
    message = message_send(
        author=people[name], room=general, body=body, client_id=uuid.uuid4()
    ).message
    Message.objects.filter(pk=message.pk).update(created_at=now - timedelta(minutes=minutes_ago))
for n in range(3):
    message_send(author=people["Grace"], room=design, body=f"Mock-up {{n}}", client_id=uuid.uuid4())
message_send(author=people["Linus"], room=ops, body="Deploy at 14:00", client_id=uuid.uuid4())
dm = dm_open(user=people["Grace"], usernames=["ada"])
message_send(author=people["Grace"], room=dm, body="Got a minute?", client_id=uuid.uuid4())
"""

# Ada was away for the last few messages in General: the "New messages" line shows.
# Each shot reads them, so this runs before each.
AWAY = """
from rooms.models import Membership
Membership.objects.filter(room__slug="general", user__username="ada").update(
    last_read_seq=6
)
"""

SHOTS = [
    (
        "chat-light.png",
        {"viewport": {"width": 1280, "height": 800}, "color_scheme": "light"},
    ),
    (
        "chat-dark.png",
        {"viewport": {"width": 1280, "height": 800}, "color_scheme": "dark"},
    ),
    (
        "chat-mobile.png",
        {
            "viewport": {"width": 390, "height": 844},
            "device_scale_factor": 2,
            "is_mobile": True,
            "has_touch": True,
            "color_scheme": "light",
        },
    ),
]


def main(out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir:
        redis = RedisServer(Path(workdir)).start()
        try:
            site = Site(Path(workdir), redis.url).prepare()
            site.manage("shell", "-c", SEED)
            server = Daphne(site).start()
            try:
                shoot(server.url, out, away=lambda: site.manage("shell", "-c", AWAY))
            finally:
                server.stop()
        finally:
            redis.stop()


def shoot(base_url: str, out: Path, away: Callable[[], object]) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu"],
        )
        for name, options in SHOTS:
            away()
            context = browser.new_context(base_url=base_url, **options)
            page = context.new_page()
            log_in(page, "ada")
            page.locator("[data-connection-status][data-state='connected']").wait_for()
            page.get_by_label("Message", exact=True).fill(
                "Sounds great, merging after lunch"
            )
            # Once Ada has read General its badge clears; the "New messages" line stays.
            page.locator("#sidebar li[data-slug='general'] [data-badge]").wait_for(
                state="hidden"
            )
            save(page, out / name)
            context.close()

            context = browser.new_context(base_url=base_url, **options)
            page = context.new_page()
            log_in(page, "grace")
            link = page.locator("#sidebar li[data-kind='private'] a")
            page.goto(f"{link.get_attribute('href')}members/")
            save(page, out / name.replace("chat-", "members-"))
            context.close()
        browser.close()


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/r/general/")


def save(page, path: Path) -> None:
    page.screenshot(path=str(path))
    print(path, file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
