"""A message's text as HTML, rendered once when the message is stored or edited.

Three walls keep a message from running anything in a reader's page:
1. markdown-it renders with raw HTML off and only the constructs a chat needs: bold,
   italic, strikethrough, inline code, code blocks, links (and bare URLs), lists and
   quotes; a link to anything but an http, https or mailto URL stays plain text.
2. nh3 (ammonia) then keeps only the tags those constructs make, the few attributes
   they need, and links to http, https and mailto URLs; every link opens in a new tab
   with rel="noopener noreferrer nofollow".
3. The page's Content Security Policy (script-src 'self') refuses inline script.

The stored HTML travels in the message payload; the client inserts it as is, which is
why it must be safe here.

An @username names a member of the room (the caller says who may be named): it becomes
`<span class="mention" data-user-id="…">@username</span>`, the one span and the only
class and data attribute nh3 lets through. Any other @word stays the text typed.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_inline import StateInline

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
    "blockquote",
    "span",
}
# "*": no attribute on every tag (ammonia's default would allow lang and title).
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href"},
    "ol": {"start"},
    "span": {"class", "data-user-id"},
    "*": set(),
}
MENTION_CLASS = "mention"
# What may follow "@" in a mention: Django's username characters but "@". Trailing
# ".", "+" and "-" are tried off one by one, so "@bob." names bob.
MENTION_NAME = re.compile(r"[\w.+-]+")
MENTION_TRAILING = ".+-"
# A mention starts a word: "mail@bob" is an address, not a mention.
MENTION_AFTER = re.compile(r"[\w.+@-]")
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"
# Bare domains become links only for these endings, so "main.py" or "README.md" (both
# country domains) stay text; anything written with http:// or https:// is a link.
LINKIFY_TLDS = ["com", "org", "net", "edu", "gov", "io", "dev", "app", "info"]


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": True, "breaks": True})
    md.enable(["strikethrough", "linkify"])
    # Not chat constructs: a line starting with "#" or "---", an image, or a hidden
    # "[1]: url" definition stay the text that was typed.
    md.disable(["heading", "lheading", "hr", "image", "reference"])
    md.linkify.tlds(LINKIFY_TLDS, False)
    for scheme in ("ftp:", "//"):
        md.linkify.add(scheme, None)
    # A link to anything but an absolute http(s) or mailto URL stays the text typed.
    md.validateLink = _is_allowed_url
    md.inline.ruler.push("mention", _mention_rule)
    md.add_render_rule("mention", _render_mention)
    return md


def mention_candidates(text: str) -> set[str]:
    """Every name an "@" in `text` could stand for, trailing punctuation tried off:
    what the caller looks up among the room's members before rendering."""
    names = set()
    for match in re.finditer(r"@(" + MENTION_NAME.pattern + ")", text):
        name = match.group(1)
        while name:
            names.add(name)
            if name[-1] not in MENTION_TRAILING:
                break
            name = name[:-1]
    return names


def _resolve(members: Mapping[str, int], name: str) -> tuple[str, int] | None:
    """The member `name` stands for: an exact username, else the one that differs only
    in case (usernames are case-sensitive, people's typing is not)."""
    if name in members:
        return name, members[name]
    folded = [(u, pk) for u, pk in members.items() if u.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


def _mention_rule(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    if state.src[pos] != "@" or (pos and MENTION_AFTER.match(state.src[pos - 1])):
        return False
    match = MENTION_NAME.match(state.src, pos + 1)
    members = state.env.get("members")
    if match is None or not members:
        return False
    name = match.group()
    while name and (found := _resolve(members, name)) is None:
        if name[-1] not in MENTION_TRAILING:
            return False
        name = name[:-1]
    if not name or found is None:
        return False
    if not silent:
        username, user_id = found
        token = state.push("mention", "", 0)
        token.meta = {"username": username, "user_id": user_id}
        state.env.setdefault("mentioned", set()).add(user_id)
    state.pos = pos + 1 + len(name)
    return True


def _render_mention(self: Any, tokens: list, idx: int, options: Any, env: Any) -> str:
    meta = tokens[idx].meta
    return (
        f'<span class="{MENTION_CLASS}" data-user-id="{int(meta["user_id"])}">'
        f"@{escapeHtml(meta['username'])}</span>"
    )


def _is_allowed_url(url: str) -> bool:
    scheme, colon, _ = url.partition(":")
    return bool(colon) and scheme.lower() in URL_SCHEMES


_md = _markdown()


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        # Absolute http(s) and mailto only: no relative or scheme-relative links.
        return value if _is_allowed_url(value) else None
    if tag == "ol" and attribute == "start":
        return value if value.isdigit() and len(value) <= 9 else None
    if tag == "span" and attribute == "class":
        return value if value == MENTION_CLASS else None
    if tag == "span" and attribute == "data-user-id":
        return value if value.isdigit() and len(value) <= 19 else None
    return value


# Built once: nh3.clean() builds the whole policy again on every call, five times the
# cost of cleaning a chat message with it (docs/performance.md).
_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_keep_attribute,
    url_schemes=URL_SCHEMES,
    link_rel=LINK_REL,
    set_tag_attribute_values={"a": {"target": "_blank"}},
    strip_comments=True,
)


def sanitize(html: str) -> str:
    """Keeps only the markup a message may hold; everything else becomes inert."""
    return _cleaner.clean(html)


@dataclass(frozen=True)
class Rendered:
    html: str
    # The ids of the members the text names.
    mentions: frozenset[int]


# Text no rule can act on: one line of letters, digits, inner spaces and punctuation
# that starts no construct: no "@" (mentions), no "*_~`" (emphasis, code), no "<&\\"
# (HTML, entities, escapes), no "[]()/" (links), no "." before a letter (a bare
# domain), no leading "-" or number with "." (lists). Rendering it gives the text in a
# paragraph, which is most chat messages: they skip the Markdown parser and the
# sanitizer, about 30 µs each (docs/performance.md). The tests hold both ways to the
# same HTML over many generated texts.
_PLAIN = re.compile(r"(?!-|\d+\.)(?:[^\W_]|[ ,;:?!'\"|-]|\.(?![^\W\d_]))+")


def _is_plain(text: str) -> bool:
    return _PLAIN.fullmatch(text) is not None and text[0] != " " and text[-1] != " "


def render_message(text: str, *, members: Mapping[str, int] | None = None) -> Rendered:
    """A message's sanitized HTML, and whom it mentions among `members` (username to
    user id: the room's members the text may name, see rooms.mentions)."""
    if _is_plain(text):
        return Rendered(html=f"<p>{text}</p>", mentions=frozenset())
    return _render_markdown(text, members)


def _render_markdown(text: str, members: Mapping[str, int] | None) -> Rendered:
    env: dict[str, Any] = {"members": members or {}}
    html = sanitize(_md.render(text, env)).strip()
    return Rendered(html=html, mentions=frozenset(env.get("mentioned", ())))


_MENTION_IN_HTML = re.compile(rf'<span class="{MENTION_CLASS}" data-user-id="(\d+)">')


def mentioned_ids(html: str) -> frozenset[int]:
    """Whom HTML made by render_message mentions (nh3 writes attributes in one way)."""
    return frozenset(int(pk) for pk in _MENTION_IN_HTML.findall(html))


def render(text: str) -> str:
    """The sanitized HTML for a text (Markdown) that names no one."""
    return render_message(text).html
