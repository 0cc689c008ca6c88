"""HTML → readable text within a time and size budget.

``inscriptis`` renders tables and lists well but costs about 1 ms per KB of markup, and
libxml2 silently drops everything nested deeper than 255 elements (Word's unclosed tags
reach that). So: markup beyond ``MAX_MARKUP`` is cut (``html:truncated``); markup still
beyond ``MAX_RICH_MARKUP`` once comments, styles, scripts and data: URIs are gone is
reduced by a linear tag stripper (``html:fast-strip``); the tree is parsed without the
depth limit, and when inscriptis still fails or finds no text where the stripper does,
the stripper's text is used (``html-unreadable`` / ``html:empty-conversion``).
"""

from __future__ import annotations

import html
import re

from inscriptis import Inscriptis
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig
from lxml.etree import ParserError
from lxml.html import HTMLParser, document_fromstring

MAX_MARKUP = 1_000_000  # characters; the stripper reads 1 MB in tens of milliseconds
MAX_RICH_MARKUP = 100_000  # characters; inscriptis needs ~100 ms for this much

_CONFIG = ParserConfig(css=CSS_PROFILES["strict"])
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")
# Every pattern matches forward only (an unclosed construct runs to the end, as in a
# browser), so stripping stays linear on hostile markup.
_HIDDEN = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style|title|template)\b.*?(?:</\1\s*>|\Z)",
    re.DOTALL | re.IGNORECASE,
)
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE)
_BREAK = re.compile(  # a table row or list item is one line, a paragraph a block
    r"<(?:br|li|/tr|/?(?:p|div|table|h[1-6]|blockquote|pre|ul|ol|dl|dt|dd|hr|section|article"
    r"|header|footer|center))\b[^<>]*>",
    re.IGNORECASE,
)
_CELL_END = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")
_WHITESPACE = re.compile(r"\s+")
_SPACE_RUN = re.compile(r"[ \t\xa0\u200b]+")
_LINE_EDGES = re.compile(r" *\n *")
_BLANK_RUN = re.compile(r"\n{3,}")


def html_to_text(markup: str) -> tuple[str, tuple[str, ...]]:
    """Readable text of an HTML document and the defects of how it was obtained."""
    defects: list[str] = []
    if len(markup) > MAX_MARKUP:
        markup = markup[:MAX_MARKUP]
        defects.append("html:truncated")
    if len(markup) > MAX_RICH_MARKUP:
        markup = _DATA_URI.sub("", _HIDDEN.sub("", markup))
        if len(markup) > MAX_RICH_MARKUP:
            defects.append("html:fast-strip")
            return strip_tags(markup), tuple(defects)
    try:
        text = _rich_text(markup)
    except Exception:  # lxml refuses some documents, inscriptis recurses per level
        defects.append("html-unreadable")
        return strip_tags(markup), tuple(defects)
    if not text.strip():
        stripped = strip_tags(markup)
        if stripped:
            defects.append("html:empty-conversion")
            return stripped, tuple(defects)
    return text, tuple(defects)


def _rich_text(markup: str) -> str:
    markup = _XML_DECLARATION.sub("", markup, count=1).strip()
    if not markup:
        return ""
    # A parser per call: lxml parsers must not be shared between threads.
    parser = HTMLParser(huge_tree=True)  # no depth limit: deep documents are not cut short
    try:
        tree = document_fromstring(markup, parser=parser)
    except ParserError:
        tree = document_fromstring("<pre>" + markup + "</pre>", parser=parser)
    return str(Inscriptis(tree, _CONFIG).get_text())


def strip_tags(markup: str) -> str:
    """Fast, crude text of HTML: hidden parts dropped, block tags as line breaks."""
    text = _WHITESPACE.sub(" ", _HIDDEN.sub("", markup))  # source line breaks are spaces
    text = _BREAK.sub("\n", text)
    text = _CELL_END.sub(" ", text)
    text = html.unescape(_TAG.sub("", text))
    text = _LINE_EDGES.sub("\n", _SPACE_RUN.sub(" ", text))
    return _BLANK_RUN.sub("\n\n", text).strip()
