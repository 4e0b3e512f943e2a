"""Post and comment text: sanitised rich text, and the banned-word matcher for Chinese text.

Banned words match as substrings of a normalised text (NFKC so full-width letters fold to
ASCII, lower case, spaces/punctuation/symbols dropped) with one Aho–Corasick pass, so
"微 信"、"ＷＸ" or "加-微-信" cannot slip past a word list, and no word segmentation is needed.
"""

from __future__ import annotations

import time
import unicodedata
from collections import deque
from dataclasses import dataclass, field

import nh3
from django.utils.html import escape, linebreaks

from jishi.core import local_cache

ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "s", "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "a", "img",
    "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt"}}
URL_SCHEMES = {"http", "https"}
BLOCK_MARKERS = ("<p", "<br", "<ul", "<ol", "<h2", "<h3", "<h4", "<blockquote", "<img", "<hr")


def render_body(raw: str) -> str:
    """Safe HTML for a post body: rich-text HTML is sanitised; plain text becomes escaped paragraphs."""
    if "<" not in raw:
        return str(linebreaks(escape(raw)))
    cleaned = nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    if not any(marker in cleaned for marker in BLOCK_MARKERS):
        cleaned = f"<p>{cleaned}</p>"
    return cleaned


def plain_text(html: str) -> str:
    """The text of sanitised HTML (for excerpts and banned-word checks)."""
    return nh3.clean(html, tags=set()).replace("&nbsp;", " ")


def normalise(text: str) -> str:
    """Fold width and case, drop whitespace, punctuation and symbols: what banned words match against."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


@dataclass
class Matcher:
    """An Aho–Corasick automaton over normalised words."""

    goto: list[dict[str, int]] = field(default_factory=lambda: [{}])
    fail: list[int] = field(default_factory=lambda: [0])
    output: list[list[str]] = field(default_factory=lambda: [[]])

    @classmethod
    def build(cls, words: list[str]) -> Matcher:
        m = cls()
        for word in words:
            key = normalise(word)
            if not key:
                continue
            state = 0
            for ch in key:
                nxt = m.goto[state].get(ch)
                if nxt is None:
                    nxt = len(m.goto)
                    m.goto.append({})
                    m.fail.append(0)
                    m.output.append([])
                    m.goto[state][ch] = nxt
                state = nxt
            m.output[state].append(word)
        queue = deque(m.goto[0].values())
        while queue:
            state = queue.popleft()
            for ch, nxt in m.goto[state].items():
                queue.append(nxt)
                f = m.fail[state]
                while f and ch not in m.goto[f]:
                    f = m.fail[f]
                m.fail[nxt] = m.goto[f].get(ch, 0)
                m.output[nxt] = m.output[nxt] + m.output[m.fail[nxt]]
        return m

    def find(self, text: str) -> list[str]:
        """Every listed word found in ``text`` (each once, in order of first appearance)."""
        found: dict[str, None] = {}
        state = 0
        for ch in normalise(text):
            while state and ch not in self.goto[state]:
                state = self.fail[state]
            state = self.goto[state].get(ch, 0)
            for word in self.output[state]:
                found.setdefault(word, None)
        return list(found)


@dataclass(frozen=True)
class Verdict:
    rejected: list[str]
    flagged: list[str]


_cached: tuple[float, Matcher, Matcher] | None = None
WORDS_TTL_SECONDS = 10.0  # other processes pick up an operator's edit within seconds


def _matchers() -> tuple[Matcher, Matcher]:
    global _cached
    now = time.monotonic()
    if _cached and now - _cached[0] < WORDS_TTL_SECONDS:
        return _cached[1], _cached[2]
    from .models import BannedWord, BannedWordAction

    rows = list(BannedWord.objects.filter(is_active=True).values_list("word", "action"))
    reject = Matcher.build([w for w, a in rows if a == BannedWordAction.REJECT])
    flag = Matcher.build([w for w, a in rows if a == BannedWordAction.FLAG])
    _cached = (now, reject, flag)
    return reject, flag


@local_cache.register
def forget_words() -> None:
    global _cached
    _cached = None


def screen(*texts: str) -> Verdict:
    """Which banned words ``texts`` contain, split by what the operator wants done about them."""
    reject, flag = _matchers()
    joined = "\n".join(texts)
    return Verdict(rejected=reject.find(joined), flagged=flag.find(joined))
