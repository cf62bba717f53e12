"""The HTML sanitiser and the HTML-to-text rendering."""

from __future__ import annotations

import pytest
from caseline.mail.html import html_to_text, sanitize_html


@pytest.mark.parametrize(
    "dirty",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
        '<svg onload="alert(1)"><circle/></svg>',
        '<iframe src="https://evil.example.net/"></iframe>',
        '<object data="https://evil.example.net/x.swf"></object>',
        '<form action="https://evil.example.net/"><input name="p"><button>go</button></form>',
        '<meta http-equiv="refresh" content="0;url=https://evil.example.net/">',
        '<link rel="stylesheet" href="https://evil.example.net/x.css">',
        '<base href="https://evil.example.net/">',
        "<style>body { background: url(https://evil.example.net/x.gif) }</style>",
        '<div style="background-image: url(https://evil.example.net/x.gif)">x</div>',
        '<div style="behavior: url(x.htc); -moz-binding: url(x.xml)">x</div>',
        '<table background="https://evil.example.net/bg.gif"><tr><td>x</td></tr></table>',
        '<img srcset="https://evil.example.net/a.gif 1x">',
        '<p data-remote-src="https://evil.example.net/x.gif">forged</p>',
    ],
)
def test_nothing_active_or_remote_survives(dirty: str) -> None:
    clean = sanitize_html(dirty).lower()
    for needle in (
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "data:text",
        "<iframe",
        "<object",
        "<form",
        "<input",
        "<meta",
        "<link",
        "<base",
        "url(",
        "evil.example.net",
        "<svg",
        "srcset",
    ):
        assert needle not in clean, (needle, clean)


def test_remote_images_are_neutralised_and_inline_ones_kept() -> None:
    html = (
        '<img alt="a>b" src="https://cdn.example.net/p.png" width="10">'
        '<img src="//cdn.example.net/q.png">'
        '<img src="cid:part1@example.org">'
        '<img src="data:image/png;base64,iVBORw0KGgo=">'
        '<img src="data:text/html,hi">'
        '<img src="/relative.png">'
    )
    assert sanitize_html(html) == (
        '<img alt="a&gt;b" data-remote-src="https://cdn.example.net/p.png" width="10">'
        "<img>"
        '<img src="cid:part1@example.org">'
        '<img src="data:image/png;base64,iVBORw0KGgo=">'
        "<img>"
        "<img>"
    )


def test_formatting_links_and_safe_styles_stay() -> None:
    html = (
        '<p style="color: red; font-weight: bold; position: fixed">Hi <b>there</b></p>'
        '<a href="https://example.org/x" target="_blank">link</a> <a href="mailto:a@example.org">mail</a>'
        "<table><tr><td>1</td></tr></table>"
    )
    assert sanitize_html(html) == (
        '<p style="color:red;font-weight:bold">Hi <b>there</b></p>'
        '<a href="https://example.org/x" rel="noopener noreferrer nofollow">link</a> '
        '<a href="mailto:a@example.org" rel="noopener noreferrer nofollow">mail</a>'
        "<table><tbody><tr><td>1</td></tr></tbody></table>"
    )


def test_html_to_text_structure() -> None:
    html = (
        "<html><head><title>T</title><style>p{}</style></head><body>"
        "<h1>Order</h1><p>Line one<br>line two</p>"
        "<ol><li>first</li><li>second</li></ol>"
        "<ul><li>dot</li></ul>"
        '<p>See <a href="https://example.org/help">the help</a> or <a href="https://example.org">https://example.org</a>.</p>'
        "<pre>  keep   spacing\n  here</pre>"
        "<blockquote>quoted<blockquote>deeper</blockquote></blockquote>"
        "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>"
        "<p>caf&eacute; &amp; cr&#232;me&nbsp;br&ucirc;l&eacute;e</p><script>x()</script>"
        "</body></html>"
    )
    assert html_to_text(html) == (
        "Order\n\nLine one\nline two\n\n1. first\n2. second\n- dot\n\n"
        "See the help <https://example.org/help> or https://example.org.\n\n"
        "  keep   spacing\n  here\n"
        "> quoted\n> > deeper\n\n"
        "a b\nc d\n\n"
        "café & crème brûlée"
    )


def test_html_to_text_never_fails_on_garbage() -> None:
    assert html_to_text("<<<>>><!DOCTYPE<![CDATA[x") is not None
    assert html_to_text("") == ""
