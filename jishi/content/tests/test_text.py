"""The banned-word matcher (Aho–Corasick over normalised Chinese text) and body rendering."""

from __future__ import annotations

import pytest

from jishi.content.text import Matcher, normalise, render_body


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("请加微信", ["微信"]),
        ("微　信号", ["微信"]),  # full-width space
        ("ＶＸ：abc", ["vx"]),  # full-width letters fold
        ("他说这是假货，还是代购的", ["假货", "代购"]),
        ("微博很好", []),
        ("she said hers", ["she", "he", "hers"]),  # overlapping words through failure links
    ],
)
def test_matcher_finds_words_in_normalised_text(text: str, found: list[str]) -> None:
    matcher = Matcher.build(["微信", "vx", "假货", "代购", "she", "he", "hers"])
    assert sorted(matcher.find(text)) == sorted(found)


def test_normalise_drops_spacing_and_punctuation() -> None:
    assert normalise("加 - 微.信！ＡＢ") == "加微信ab"


def test_plain_text_body_becomes_escaped_paragraphs() -> None:
    assert render_body("第一段\n\n第二段 & 三") == "<p>第一段</p>\n\n<p>第二段 &amp; 三</p>"
