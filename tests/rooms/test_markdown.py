"""rooms.markdown: what a message's Markdown becomes, and that no markup in it runs."""

import random
import re
from html.parser import HTMLParser

import pytest

from rooms import markdown
from rooms.markdown import mentioned_ids, render, render_message, sanitize

REL = 'rel="noopener noreferrer nofollow"'


def links(html: str) -> list[str]:
    return re.findall(r"<a\b[^>]*>", html)


# --- what renders ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "html"),
    [
        (
            "**bold** and __bold__",
            "<p><strong>bold</strong> and <strong>bold</strong></p>",
        ),
        ("*italic* and _italic_", "<p><em>italic</em> and <em>italic</em></p>"),
        ("~~gone~~", "<p><s>gone</s></p>"),
        ("use `x < y` here", "<p>use <code>x &lt; y</code> here</p>"),
        (
            "```python\nif a < b:\n    pass\n```",
            "<pre><code>if a &lt; b:\n    pass\n</code></pre>",
        ),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("3. three\n4. four", '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>'),
        (
            "> quoted\n\nreply",
            "<blockquote>\n<p>quoted</p>\n</blockquote>\n<p>reply</p>",
        ),
        ("line one\nline two", "<p>line one<br>\nline two</p>"),
    ],
    ids=[
        "bold",
        "italic",
        "strike",
        "inline-code",
        "fence",
        "ul",
        "ol",
        "quote",
        "breaks",
    ],
)
def test_when_markdown_is_written_then_it_renders_the_chat_constructs(text, html):
    assert render(text) == html


def test_when_a_link_is_written_then_it_opens_in_a_new_tab_without_referrer():
    html = render("[the docs](https://example.com/docs?a=1&b=2)")

    assert html == (
        '<p><a href="https://example.com/docs?a=1&amp;b=2" target="_blank" '
        f"{REL}>the docs</a></p>"
    )


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("see https://example.com/path_(x)", "https://example.com/path_(x)"),
        ("http://example.org.", "http://example.org"),
        ("at www.example.com now", "http://www.example.com"),
        ("example.com", "http://example.com"),
        ("<https://example.com>", "https://example.com"),
        ("mail me@example.com", "mailto:me@example.com"),
    ],
)
def test_when_a_bare_url_is_written_then_it_becomes_a_link(text, href):
    (link,) = links(render(text))

    assert f'href="{href}"' in link
    assert 'target="_blank"' in link and REL in link


@pytest.mark.parametrize("text", ["main.py", "README.md", "setup.sh", "v1.2.3"])
def test_when_a_file_name_looks_like_a_domain_then_it_stays_text(text):
    assert render(text) == f"<p>{text}</p>"


@pytest.mark.parametrize(
    "text",
    [
        "# not a heading",
        "---",
        "![alt](https://example.com/a.png)",
        "[1]: https://x.io",
    ],
)
def test_when_markdown_is_not_a_chat_construct_then_no_heading_rule_or_image(text):
    html = render(text)

    assert not re.search(r"<(h\d|hr|img)\b", html)
    assert html.startswith("<p>")


# --- plain text -------------------------------------------------------------------------

# Pieces of text where Markdown, linkify and mentions change something, and around them.
PIECES = [
    *"aZéж19 .,;:?!'\"|-_*~`@#<>&/()[]",
    "  ",
    "http:",
    "https://x",
    "mailto:",
    "www",
    ".com",
    ".io",
    "x.y",
    "1.",
    "10)",
    "- ",
    "+ ",
    "...",
]


def test_when_a_text_is_plain_then_it_renders_as_markdown_would():
    rng = random.Random(20261203)
    plain = 0
    for _ in range(20_000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8)))
        fast = render_message(text)
        if markdown._is_plain(text):
            plain += 1
            assert fast == markdown._render_markdown(text, None), text
    # Enough of the generated texts took the plain way for the check to mean something.
    assert plain > 1_000


@pytest.mark.parametrize(
    "text",
    [
        "hello, world",
        "3000012|12345.678|xxxx",
        "well-known: yes? no!",
        'it\'s "quoted"',
        "déjà vu 2026",
        "ok.",
    ],
)
def test_when_a_chat_line_has_no_markup_then_it_is_one_paragraph_of_its_text(text):
    assert markdown._is_plain(text)
    assert render(text) == f"<p>{text}</p>"


@pytest.mark.parametrize(
    "text", ["see example.com", "1. one", "- item", "a_b_", " indented", "@bob", ""]
)
def test_when_a_text_could_hold_markup_then_it_is_not_taken_as_plain(text):
    assert not markdown._is_plain(text)


# --- what never runs ---------------------------------------------------------------------

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javascript:alert(1)">x</a>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](%6Aavascript:alert(1))",
    "[x]( javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](data:image/svg+xml,<svg onload=alert(1)>)",
    "![x](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    "<javascript:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "javascript:alert(1)",
    '[x](https://example.com" onmouseover="alert(1))',
    "[x](https://example.com 'title\" onmouseover=\"alert(1)')",
    'https://example.com/"onmouseover="alert(1)"',
    "https://example.com/'><script>alert(1)</script>",
    "**<img src=x onerror=alert(1)>**",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    '```" onload="alert(1)\n<b>x</b>\n```',
    "> <img src=x onerror=alert(1)>",
    "- <svg/onload=alert(1)>",
    "<!-- x --><script>alert(1)</script>",
    "[x](/relative/logout) [y](//evil.example/x)",
    "[x][1]\n\n[1]: javascript:alert(1)",
    "<details open ontoggle=alert(1)>",
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]


ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "s",
    "code",
    "pre",
    "a",
    "ul",
    "ol",
    "li",
} | {"blockquote", "span"}


class Tags(HTMLParser):
    """Every start tag in a fragment, with its attributes, as a browser would parse it."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def inert(html: str) -> None:
    """Only the allowed tags; no event handler, style or src; links only to http(s) or
    mailto URLs, each opening a new tab without opener or referrer."""
    for tag, attributes in Tags(html).found:
        assert tag in ALLOWED_TAGS, html
        allowed = {
            "a": {"href", "target", "rel"},
            "ol": {"start"},
            "span": {"class", "data-user-id"},
        }.get(tag, set())
        assert set(attributes) <= allowed, html
        if tag == "span":
            # Only a mention: its class, and a member's id.
            assert attributes.get("class", "mention") == "mention", html
            assert re.fullmatch(r"\d+", attributes.get("data-user-id") or "0"), html
        if tag == "a":
            # A link whose URL was refused keeps its text and no href at all.
            href = attributes.get("href", "https:")
            assert re.match(r"(https?|mailto):", href or ""), html
            assert attributes["target"] == "_blank", html
            assert attributes["rel"] == "noopener noreferrer nofollow", html


@pytest.mark.parametrize("text", XSS)
def test_when_a_message_holds_an_attack_then_its_html_is_inert(text):
    inert(render(text))


@pytest.mark.parametrize("text", XSS)
def test_when_raw_html_is_typed_then_it_shows_as_the_characters_typed(text):
    html = render(text)

    # Nothing that was typed as a tag comes out as one.
    assert "<script" not in html and "<img" not in html and "<svg" not in html
    assert "<iframe" not in html and "<details" not in html and "<math" not in html


@pytest.mark.parametrize(
    "html",
    [
        '<a href="javascript:alert(1)">x</a>',
        '<a href="  JAVASCRIPT:alert(1)">x</a>',
        '<a href="data:text/html,x">x</a>',
        '<a href="/logout">x</a>',
        '<a href="//evil.example">x</a>',
        '<p onclick="alert(1)" style="x">x</p>',
        "<img src=x onerror=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<style>body{}</style>",
        '<a href="https://ok.example" target="_top" rel="opener">x</a>',
    ],
)
def test_when_the_renderer_lets_something_through_then_the_sanitizer_still_stops_it(
    html,
):
    inert(sanitize(html))


def test_when_a_link_survives_sanitizing_then_it_keeps_only_a_safe_target_and_rel():
    assert sanitize(
        '<a href="https://ok.example" target="_top" rel="opener">x</a>'
    ) == (f'<a href="https://ok.example" target="_blank" {REL}>x</a>')


# --- mentions ----------------------------------------------------------------------------

MEMBERS = {"bob": 2, "alice": 3, "a.b": 4, "img": 5, "script": 6}


@pytest.mark.parametrize(
    ("text", "html", "ids"),
    [
        (
            "hi @bob",
            '<p>hi <span class="mention" data-user-id="2">@bob</span></p>',
            {2},
        ),
        ("@bob.", '<p><span class="mention" data-user-id="2">@bob</span>.</p>', {2}),
        ("(@a.b)", '<p>(<span class="mention" data-user-id="4">@a.b</span>)</p>', {4}),
        ("@ALICE", '<p><span class="mention" data-user-id="3">@alice</span></p>', {3}),
        ("mail@bob", "<p>mail@bob</p>", set()),
        ("@carol", "<p>@carol</p>", set()),
        ("@bobby", "<p>@bobby</p>", set()),
        ("`@bob`", "<p><code>@bob</code></p>", set()),
    ],
)
def test_when_a_member_is_named_then_the_name_becomes_a_mention(text, html, ids):
    rendered = render_message(text, members=MEMBERS)

    assert rendered.html == html
    assert rendered.mentions == ids
    assert mentioned_ids(rendered.html) == ids


def test_when_no_members_are_given_then_nothing_is_a_mention():
    assert render("@bob") == "<p>@bob</p>"


MENTION_XSS = [
    "@<img src=x onerror=alert(1)>",
    "@img<img src=x onerror=alert(1)>",
    "@script<script>alert(1)</script>",
    '@bob" onmouseover="alert(1)',
    "[@bob](javascript:alert(1))",
    '<span class="mention" data-user-id="2" onclick="alert(1)">@bob</span>',
    "**@bob**<svg onload=alert(1)>",
]


@pytest.mark.parametrize("text", MENTION_XSS)
def test_when_a_mention_carries_an_attack_then_its_html_is_inert(text):
    html = render_message(text, members=MEMBERS).html

    inert(html)
    assert "<img" not in html and "<script" not in html and "<svg" not in html
    # Every tag is a known one with known attributes (inert); mentions name members.
    assert mentioned_ids(html) <= set(MEMBERS.values())


@pytest.mark.parametrize(
    "html",
    [
        '<span class="mention evil" data-user-id="2">x</span>',
        '<span class="mention" data-user-id="2 onclick=alert(1)">x</span>',
        '<span class="mention" data-user-id="2" style="x" onclick="alert(1)">x</span>',
        '<span class="x" data-other="1">x</span>',
    ],
)
def test_when_a_span_is_not_exactly_a_mention_then_the_sanitizer_strips_the_rest(html):
    cleaned = sanitize(html)

    inert(cleaned)
    assert mentioned_ids(cleaned) <= {2}
    assert "onclick" not in cleaned and "style" not in cleaned and "evil" not in cleaned
