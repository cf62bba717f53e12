"""HTML bodies: a sanitised copy safe to show to an agent, and a plain-text rendering for HTML-only mail.

Sanitising is nh3's job (an allow-list: no scripts, no event handlers, no forms or frames, no CSS that can
fetch anything). On top of that remote images are neutralised: an `<img>` whose source is on the network keeps
its address in `data-remote-src` and has no `src`, so opening a message tells no tracker it was read; the
agent UI can offer to load them. `cid:` images (parts of the same message) and small `data:` images stay.
"""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser

import nh3

_TAGS = nh3.ALLOWED_TAGS | {"font"}
_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"style", "dir", "lang", "title", "class"},
    "img": {"src", "alt", "width", "height", "align", "data-remote-src"},
    "font": {"color", "face", "size"},
    "td": {*nh3.ALLOWED_ATTRIBUTES["td"], "valign", "width", "height", "bgcolor"},
    "table": {*nh3.ALLOWED_ATTRIBUTES["table"], "width", "cellpadding", "cellspacing", "border", "bgcolor"},
}
# CSS properties that shape text and boxes; none of them can name a URL (no background, no list-style-image).
_STYLE_PROPERTIES = {
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "line-height",
    "text-align",
    "text-decoration",
    "text-indent",
    "text-transform",
    "letter-spacing",
    "white-space",
    "vertical-align",
    "direction",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-top",
    "border-right",
    "border-bottom",
    "border-left",
    "border-color",
    "border-style",
    "border-width",
    "border-collapse",
    "border-spacing",
    "border-radius",
    "width",
    "height",
    "max-width",
    "min-width",
    "display",
}
_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}
_REMOTE_SRC = re.compile(r'(<img\b(?:\s+[^\s="\'>/]+(?:="[^"]*")?)*?)\s+src="([^"]*)"', re.IGNORECASE)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    lowered = value.strip().lower()
    if attribute == "href" and lowered.startswith(("data:", "cid:")):
        return None
    if attribute == "src" and lowered.startswith("data:") and not lowered.startswith("data:image/"):
        return None
    if attribute == "data-remote-src":
        return None  # only we set it, after cleaning
    return value


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=_TAGS,
        clean_content_tags={"script", "style", "title", "head"},
        attributes=_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes=_SCHEMES,
        filter_style_properties=_STYLE_PROPERTIES,
        url_relative="deny",
        link_rel="noopener noreferrer nofollow",
    )


def _neutralise(match: re.Match[str]) -> str:
    head, source = match.group(1), match.group(2)
    if source.lower().startswith(("cid:", "data:image/")):
        return match.group(0)
    return f'{head} data-remote-src="{source}"'


def sanitize_html(html: str) -> str:
    """Clean `html` for display: allow-listed tags and styles only, remote images not loaded."""
    cleaned = _cleaner().clean(html)
    return _REMOTE_SRC.sub(_neutralise, cleaned)


_BLOCK = {
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "aside",
    "nav",
    "ul",
    "ol",
    "table",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "hr",
    "address",
    "figure",
    "dl",
    "dt",
    "dd",
    "center",
    "form",
}
_SKIP = {"script", "style", "head", "title", "noscript", "template"}


class _TextRenderer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line: list[str] = []
        self.quote_depth = 0
        self.skip_depth = 0
        self.pre_depth = 0
        self.list_stack: list[list[int]] = []  # [counter] per open list; counter -1 for <ul>
        self.link: tuple[str, int] | None = None

    def _break(self, blank: bool = False, force: bool = False) -> None:
        text = "".join(self.line)
        if self.pre_depth == 0:
            text = re.sub(r"[ \t\r\n\f\u200b]+", " ", text).strip()
        if text or force:
            prefix = "> " * self.quote_depth
            self.lines.append((prefix + text).rstrip() if text else prefix.rstrip())
        self.line = []
        if blank and self.lines and self.lines[-1].strip("> ") != "":
            self.lines.append((">" * self.quote_depth).strip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if tag == "br":
            self._break(force=True)
        elif tag == "blockquote":
            self._break(blank=False)
            self.quote_depth += 1
        elif tag in ("ul", "ol"):
            self._break()
            self.list_stack.append([-1 if tag == "ul" else 0])
        elif tag == "li":
            self._break()
            marker = "- "
            if self.list_stack and self.list_stack[-1][0] >= 0:
                self.list_stack[-1][0] += 1
                marker = f"{self.list_stack[-1][0]}. "
            self.line.append("  " * max(0, len(self.list_stack) - 1) + marker)
        elif tag in ("td", "th"):
            if self.line:
                self.line.append("  ")
        elif tag == "pre":
            self._break()
            self.pre_depth += 1
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.link = (href, len("".join(self.line)))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.line.append(f"[{alt}]")
        elif tag in _BLOCK:
            self._break(blank=tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "table"))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag == "blockquote":
            self._break()
            self.quote_depth = max(0, self.quote_depth - 1)
        elif tag in ("ul", "ol"):
            self._break()
            if self.list_stack:
                self.list_stack.pop()
        elif tag == "pre":
            self._break()
            self.pre_depth = max(0, self.pre_depth - 1)
        elif tag == "a" and self.link is not None:
            href, start = self.link
            shown = "".join(self.line)[start:].strip()
            if href.lower().startswith(("http://", "https://")) and href not in shown and shown:
                self.line.append(f" <{href}>")
            self.link = None
        elif tag in _BLOCK or tag in ("li", "tr"):
            self._break(blank=tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6", "table"))

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            parts = data.split("\n")
            for index, part in enumerate(parts):
                if index:
                    self._break()
                self.line.append(part)
        else:
            self.line.append(data.replace("\xa0", " "))

    def text(self) -> str:
        self._break()
        out: list[str] = []
        for line in self.lines:
            if not line.strip("> ") and out and not out[-1].strip("> "):
                continue  # one blank line at most
            out.append(line)
        return "\n".join(out).strip("\n")


def html_to_text(html: str) -> str:
    """Render HTML as readable plain text: paragraphs, line breaks, lists, links, `>` for blockquotes."""
    renderer = _TextRenderer()
    try:
        renderer.feed(html)
        renderer.close()
    except (AssertionError, ValueError):  # HTMLParser gives up on some malformed declarations
        return re.sub(r"<[^>]*>", " ", html).strip()
    return renderer.text()
