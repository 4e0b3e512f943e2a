"""Chinese product search: jieba words, single characters and pinyin/initials in one index.

The index is a plain table queried with the same SQL on SQLite and PostgreSQL; a product
ranks by how many of the query's terms it matches, then by the weight of the matches.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache

from django.db import transaction
from django.db.models import Case, IntegerField, Max, Q, QuerySet, Sum, Value, When

from .models import Product, SearchTerm

CJK = re.compile(r"[\u3400-\u9fff]")
WORD = re.compile(r"[\u3400-\u9fff]+|[a-z0-9]+")
MAX_TERM = 64
MAX_QUERY_TERMS = 8

# How much a match in each place counts.
W_NAME_WORD, W_NAME_CHAR, W_PINYIN, W_INITIALS = 10, 3, 6, 5
W_SUB_WORD, W_SUB_CHAR, W_CATEGORY = 3, 1, 4


@lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def warm_up() -> None:
    """Load jieba's dictionary now (≈2 s) instead of on the first Chinese search."""
    _jieba()


def warm_up_in_background() -> threading.Thread:
    """``warm_up`` in a daemon thread: a process starting up (gunicorn worker, Huey consumer) is
    not held up, and never kept from stopping; a search meanwhile waits on jieba's own lock."""
    thread = threading.Thread(target=warm_up, name="jieba-warm-up", daemon=True)
    thread.start()
    return thread


def _pinyin(text: str) -> tuple[str, str]:
    from pypinyin import Style, lazy_pinyin

    full = "".join(lazy_pinyin(text)).lower()
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER)).lower()
    return full, initials


def words(text: str) -> list[str]:
    """Search words of ``text``: jieba's search-mode cut of the Chinese, latin/digit runs."""
    text = text.lower()
    out: list[str] = []
    for chunk in WORD.findall(text):
        if CJK.match(chunk):
            out.extend(w for w in _jieba().cut_for_search(chunk) if w.strip())
        else:
            out.append(chunk)
    return out


def terms_for(name: str, subtitle: str = "", category: str = "") -> dict[str, int]:
    terms: dict[str, int] = {}

    def add(term: str, weight: int) -> None:
        term = term.strip().lower()[:MAX_TERM]
        if term:
            terms[term] = max(terms.get(term, 0), weight)

    for word in words(name):
        add(word, W_NAME_WORD)
        if CJK.match(word):
            full, initials = _pinyin(word)
            add(full, W_PINYIN)
            if len(initials) > 1:
                add(initials, W_INITIALS)
    for char in CJK.findall(name):
        add(char, W_NAME_CHAR)
    hanzi = "".join(CJK.findall(name))
    if hanzi:
        full, initials = _pinyin(hanzi)
        add(full, W_PINYIN)
        add(initials, W_INITIALS)
    for word in words(subtitle):
        add(word, W_SUB_WORD)
    for char in CJK.findall(subtitle):
        add(char, W_SUB_CHAR)
    for word in words(category):
        add(word, W_CATEGORY)
    return terms


def reindex(product: Product) -> None:
    category_name = product.category.name if product.category_id else ""
    terms = terms_for(product.name, product.subtitle, category_name)
    with transaction.atomic():
        SearchTerm.objects.filter(product=product).delete()
        SearchTerm.objects.bulk_create(
            SearchTerm(product=product, term=term, weight=weight) for term, weight in terms.items()
        )


def _query_conditions(q: str) -> list[Q]:
    """One condition per query term: exact for Chinese, prefix for pinyin and latin."""
    conditions: list[Q] = []
    seen: set[str] = set()
    for word in words(q):
        if word in seen:
            continue
        seen.add(word)
        if CJK.match(word):
            # A word the index does not hold still matches through its characters.
            conditions.append(Q(term=word) | Q(term__in=list(word)) if len(word) > 1 else Q(term=word))
        elif len(word) >= 2:
            conditions.append(Q(term__startswith=word))
        else:
            conditions.append(Q(term=word))
        if len(conditions) >= MAX_QUERY_TERMS:
            break
    return conditions


query_conditions = _query_conditions  # shared with other indexes built from ``terms_for`` (rebate goods)


def ranked_product_ids(q: str, products: QuerySet[Product], cap: int = 1000) -> list[int]:
    """Ids of ``products`` matching ``q``, best first (all terms matched before some)."""
    conditions = _query_conditions(q)
    if not conditions:
        return []
    any_term = Q()
    for condition in conditions:
        any_term |= condition
    matched = sum(
        (Max(Case(When(c, then=Value(1)), default=Value(0), output_field=IntegerField())) for c in conditions),
        start=Value(0, output_field=IntegerField()),
    )
    rows = list(
        SearchTerm.objects.filter(any_term, product__in=products)
        .values("product_id")
        .annotate(matched=matched, score=Sum("weight"))
        .order_by("-matched", "-score", "-product_id")[:cap]
    )
    if not rows:
        return []
    best = rows[0]["matched"]
    return [r["product_id"] for r in rows if r["matched"] == best]
