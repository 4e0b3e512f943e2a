"""The console frame: yuan and % form fields, the sidebar by operator task, the dashboard registry."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from jishi.core import dashboard
from jishi.core.console import GROUPS, PercentFormField, PercentListFormField, YuanFormField, bp_text, fen_text
from jishi.core.dashboard import SECTIONS, Card, Figure, register_card
from jishi.testing.factories import OperatorFactory, UserFactory


@pytest.mark.parametrize(
    ("typed", "fen"),
    [("128", 12800), ("128.5", 12850), ("128.50", 12850), ("¥1,280.05", 128005), ("0", 0), ("0.01", 1)],
)
def test_yuan_field_cleans_typed_yuan_to_fen(typed: str, fen: int) -> None:
    assert YuanFormField().clean(typed) == fen


@pytest.mark.parametrize(
    ("typed", "code"),
    [("12.345", "precision"), ("abc", "invalid"), ("1e3", "invalid"), ("-1", "min_value"), ("NaN", "invalid")],
)
def test_yuan_field_refuses_bad_amounts(typed: str, code: str) -> None:
    with pytest.raises(forms.ValidationError) as caught:
        YuanFormField().clean(typed)
    assert [e.code for e in caught.value.error_list] == [code]


def test_yuan_field_shows_stored_fen_as_yuan() -> None:
    assert (YuanFormField().prepare_value(12800), YuanFormField().prepare_value(5), fen_text(-150)) == (
        "128.00",
        "0.05",
        "-1.50",
    )


@pytest.mark.parametrize(("typed", "bp"), [("10", 1000), ("12.5", 1250), ("0.01", 1), ("100%", 10000)])
def test_percent_field_cleans_percent_to_basis_points(typed: str, bp: int) -> None:
    assert PercentFormField().clean(typed) == bp


def test_percent_field_refuses_over_100_and_shows_back_in_percent() -> None:
    with pytest.raises(forms.ValidationError) as caught:
        PercentFormField().clean("100.5")
    assert [e.code for e in caught.value.error_list] == ["range"]
    assert (PercentFormField().prepare_value(1250), bp_text(1000), bp_text(5)) == ("12.5", "10", "0.05")


def test_percent_list_field_reads_levels_in_percent() -> None:
    field = PercentListFormField(required=False)
    assert field.clean("10, 5，2.5") == [1000, 500, 250]
    assert field.prepare_value([1000, 500]) == "10, 5"
    with pytest.raises(forms.ValidationError):
        field.clean("10, 120")


@pytest.mark.django_db
def test_sidebar_groups_by_operator_task_in_order() -> None:
    client = Client()
    client.force_login(OperatorFactory(is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:index"))
    titles = [str(group["title"]) for group in page.context["sidebar_navigation"]]
    assert titles == [str(g.title) for g in GROUPS]
    body = page.content.decode()
    assert "object (" not in body
    for raw in ("CATALOG", "Stock moves", "Catalog"):
        assert raw not in body


@pytest.mark.django_db
def test_sidebar_shows_a_plain_staff_member_nothing_they_may_not_open() -> None:
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    page = client.get(reverse("admin:index"))
    links = [item["link"] for group in page.context["sidebar_navigation"] for item in group["items"]]
    assert links == [reverse("admin:index")]


@pytest.mark.django_db
def test_a_registered_card_shows_on_the_home_with_its_link() -> None:
    def compute(period: Any) -> Figure:
        return Figure(value="¥42.00", note="test", link="/console/orders/order/?status__exact=paid")

    register_card(Card("test.extra", "分析卡片", "week", compute, order=999))
    client = Client()
    client.force_login(OperatorFactory(is_staff=True))
    try:
        body = client.get(reverse("admin:index")).content.decode()
    finally:
        dashboard._cards.pop("test.extra")
    assert 'data-card="test.extra"' in body
    assert 'href="/console/orders/order/?status__exact=paid"' in body
    assert set(SECTIONS) >= {"today", "week", "todo"}
