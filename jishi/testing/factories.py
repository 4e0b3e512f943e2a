"""factory_boy factories: build test data in one line."""

from __future__ import annotations

import itertools
from typing import Any

import factory

from jishi.accounts.models import Address, Role, User, UserRole
from jishi.catalog.models import Category, Product, ProductStatus, Sku
from jishi.inventory import services as inventory

_phones = itertools.count(13900000000)
DEFAULT_PASSWORD = "test-pass-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = factory.LazyFunction(lambda: str(next(_phones)))
    username = factory.SelfAttribute("phone")
    nickname = factory.Sequence(lambda n: f"买家{n}")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create:
            return
        self.save()
        for role in extracted or [Role.BUYER]:
            UserRole.objects.get_or_create(user=self, role=role)


class OperatorFactory(UserFactory):
    phone = None
    username = factory.Sequence(lambda n: f"operator{n}")
    roles = factory.PostGeneration(
        lambda obj, create, extracted, **kw: (
            create
            and [UserRole.objects.get_or_create(user=obj, role=r) for r in (extracted or [Role.OPERATOR])]
            and obj.save()
        )
    )


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    contact = "张三"
    phone = "13800000000"
    province = "浙江省"
    city = "杭州市"
    district = "西湖区"
    detail = "文三路 100 号"
    is_default = True


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"类目{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True

    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"商品{n}")
    status = ProductStatus.PUBLISHED
    price = 1000


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku
        skip_postgeneration_save = True

    product = factory.SubFactory(ProductFactory)
    price = 1000
    spec_key = factory.Sequence(lambda n: f"k{n}")

    @factory.post_generation
    def stock(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted is not None:
            inventory.set_on_hand(self.pk, extracted)


class AdminFactory(UserFactory):
    phone = None
    username = factory.Sequence(lambda n: f"admin{n}")
    is_superuser = True
    is_staff = True
