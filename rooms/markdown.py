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
"""

import nh3
from markdown_it import MarkdownIt

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
}
# "*": no attribute on every tag (ammonia's default would allow lang and title).
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href"}, "ol": {"start"}, "*": set()}
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
    return md


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
    return value


def sanitize(html: str) -> str:
    """Keeps only the markup a message may hold; everything else becomes inert."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_keep_attribute,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    )


def render(text: str) -> str:
    """The sanitized HTML for a message's text (Markdown)."""
    return sanitize(_md.render(text)).strip()
