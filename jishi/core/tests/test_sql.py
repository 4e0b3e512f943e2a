"""CachedQuery: the same rows and objects as the ORM, from SQL compiled once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jishi.accounts.models import AuthToken, User
from jishi.catalog.models import Product, Sku
from jishi.core.sql import CachedQuery, CachedUpdate
from jishi.testing.factories import SkuFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_objects_with_select_related_match_the_orm() -> None:
    skus = [SkuFactory(), SkuFactory(), SkuFactory()]
    query = CachedQuery(
        lambda ids: Sku.objects.select_related("product__category").filter(pk__in=ids, is_active=True).order_by("pk"),
        ids=list,
    )
    wanted = [skus[2].pk, skus[0].pk]

    found = query.objects(ids=wanted)

    orm = list(Sku.objects.select_related("product__category").filter(pk__in=wanted).order_by("pk"))
    assert [s.pk for s in found] == [s.pk for s in orm]
    for mine, theirs in zip(found, orm, strict=True):
        assert mine.price == theirs.price and mine.specs == theirs.specs  # a JSON field comes back decoded
        with CaptureQueriesContext(connection) as related:
            assert mine.product.category.name == theirs.product.category.name
        assert len(related) == 0  # select_related populated, as the ORM does
        assert mine._state.adding is False and mine._state.db == "default"


def test_list_parameters_compile_once_per_length() -> None:
    skus = [SkuFactory() for _ in range(3)]
    query = CachedQuery(lambda ids: Sku.objects.filter(pk__in=ids).order_by("pk"), ids=list)

    assert [s.pk for s in query.objects(ids=[skus[0].pk])] == [skus[0].pk]
    assert [s.pk for s in query.objects(ids=[skus[1].pk])] == [skus[1].pk]
    assert [s.pk for s in query.objects(ids=[s.pk for s in skus])] == [s.pk for s in skus]
    assert len(query._compiled) == 2


def test_datetime_and_string_parameters_and_converted_values() -> None:
    user = UserFactory()
    now = timezone.now()
    live = AuthToken.objects.create(user=user, key_hash="a" * 64, expires_at=now + timedelta(hours=1))
    AuthToken.objects.create(user=user, key_hash="b" * 64, expires_at=now - timedelta(hours=1))
    query = CachedQuery(
        lambda key_hash, now: AuthToken.objects.filter(key_hash=key_hash, expires_at__gt=now).values_list(
            "id", "expires_at", "user__phone"
        ),
        key_hash=str,
        now=datetime,
    )

    assert query.rows(key_hash="a" * 64, now=now) == [(live.pk, live.expires_at, user.phone)]
    assert query.rows(key_hash="b" * 64, now=now) == []  # expired: the datetime bound, not the stand-in
    (row,) = query.rows(key_hash="a" * 64, now=now - timedelta(days=1))
    assert isinstance(row[1], datetime) and row[1].tzinfo is not None


def test_annotations_are_set_on_objects() -> None:
    product = SkuFactory().product
    SkuFactory(product=product, spec_key="b")
    query = CachedQuery(
        lambda pk: Product.objects.annotate(sku_count=Count("skus")).filter(pk=pk),
        pk=int,
    )

    found = query.first(pk=product.pk)

    assert found.sku_count == 2
    assert query.first(pk=product.pk + 1000) is None


def test_a_parameter_missing_from_the_sql_is_refused() -> None:
    query = CachedQuery(lambda pk, unused: User.objects.filter(pk=pk), pk=int, unused=int)
    with pytest.raises(ValueError, match="unused"):
        query.objects(pk=1, unused=2)


def test_wrong_arguments_are_refused() -> None:
    query = CachedQuery(lambda pk: User.objects.filter(pk=pk), pk=int)
    with pytest.raises(TypeError):
        query.objects(pk=1, other=2)
    with pytest.raises(TypeError):
        CachedQuery(lambda pk: User.objects.filter(pk=pk), pk=float).objects(pk=1.0)


def test_cached_update_is_conditional_and_counts_rows() -> None:
    from django.db.models import F

    sku = SkuFactory(price=1000)
    raise_price = CachedUpdate(
        lambda pk, floor, by: (Sku.objects.filter(pk=pk, price__gte=floor), {"price": F("price") + by}),
        pk=int,
        floor=int,
        by=int,
    )

    assert raise_price.run(pk=sku.pk, floor=1000, by=250) == 1
    assert raise_price.run(pk=sku.pk, floor=5000, by=250) == 0  # the condition holds it back
    sku.refresh_from_db()
    assert sku.price == 1250
