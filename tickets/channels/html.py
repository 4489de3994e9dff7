"""HTML bodies from the outside world: sanitised before they are stored, flattened to text for
the plain body. Whatever a sender puts in HTML, what the desk keeps cannot run script, load
remote content (tracking pixels) or style the agent's page."""

import re
from html import unescape
from html.parser import HTMLParser

import nh3

# Images are dropped: remote ones are tracking pixels and the desk's CSP would block them anyway.
ALLOWED_TAGS = (nh3.ALLOWED_TAGS - {"img", "area", "map", "nav", "header", "footer"}) | {"font"}
DROPPED_WITH_CONTENT = {"script", "style", "title", "head", "template", "noscript", "textarea", "select"}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_BLOCK = {
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table",
    "ul", "ol", "hr", "dt", "dd", "section", "article",
}  # fmt: skip


def html_sanitise(html: str) -> str:
    """The HTML with only harmless tags and attributes left; links open safely."""
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes={"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}},
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self.skip += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable plain text from HTML: block elements become line breaks, whitespace collapses."""
    if not html:
        return ""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # a parser edge case must never lose the message
        text = re.sub(r"<[^>]+>", " ", html)
    text = unescape(text).replace("\xa0", " ")
    lines = [re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
