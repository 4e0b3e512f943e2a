"""The demo seed: a full shop, working logins, re-runs that change nothing, a server that starts."""

from __future__ import annotations

import io
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Count, Q, Sum

from jishi.accounts.models import Address, Role, User, UserRole
from jishi.accounts.services import login_with_password
from jishi.catalog.models import Category, Product, ProductImage, ProductStatus, SearchTerm, Sku
from jishi.demo.seed import BUYER_PHONES, FRESH_PHONES, STEPS, seed_demo, seed_orders
from jishi.inventory.models import StockItem, StockMove

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def seeded(db: Any) -> dict[str, int]:
    # The shop itself; each feature's demo steps are tested in that feature's app.
    return seed_demo(stdout=io.StringIO(), steps=STEPS)


def counts() -> dict[str, int]:
    models = (
        Category,
        Product,
        Sku,
        ProductImage,
        SearchTerm,
        StockItem,
        StockMove,
        User,
        UserRole,
        Address,
    )
    out = {m.__name__: m.objects.count() for m in models}
    out["on_hand"] = StockItem.objects.aggregate(n=Sum("on_hand"))["n"] or 0
    return out


@pytest.mark.django_db
def test_seed_builds_a_shop_of_eight_categories_and_sixty_products(seeded: dict[str, int]) -> None:
    top = Category.objects.filter(parent__isnull=True)
    published = Product.objects.filter(status=ProductStatus.PUBLISHED)

    assert top.count() >= 8
    assert {"茶叶", "生鲜水果", "休闲零食", "美妆个护", "家居日用", "母婴", "数码配件", "服饰鞋包"} <= set(
        top.values_list("name", flat=True)
    )
    assert published.count() >= 60
    assert published.filter(name="西湖龙井茶", category__parent__name="茶叶").exists()


@pytest.mark.django_db
def test_every_published_product_has_stocked_sku_and_image(seeded: dict[str, int]) -> None:
    rows = Product.objects.filter(status=ProductStatus.PUBLISHED).annotate(
        stocked=Count("skus", filter=Q(skus__stock_items__on_hand__gt=0), distinct=True),
        images_n=Count("images", distinct=True),
    )

    assert [p.name for p in rows if p.stocked < 1 or p.images_n < 1] == []
    assert all(1 <= p.images_n <= 3 for p in rows)


@pytest.mark.django_db
def test_skus_come_from_spec_combinations(seeded: dict[str, int]) -> None:
    tea = Product.objects.get(name="西湖龙井茶")
    tshirt = Product.objects.get(name="新疆长绒棉圆领 T 恤")

    assert tea.specs == [{"name": "规格", "values": ["250g", "500g"]}]
    assert sorted((s.specs["规格"], s.price) for s in tea.skus.all()) == [
        ("250g", 12800),
        ("500g", 24600),
    ]
    assert tea.price == 12800
    assert tshirt.skus.count() == 3 * 4
    assert all(len(s.barcode or "") == 13 for s in Sku.objects.all())


@pytest.mark.django_db
def test_admin_logs_in_with_demo_password(seeded: dict[str, int]) -> None:
    user = login_with_password(phone=None, username="admin", password="jishi-demo", ip="t")

    assert user.is_superuser and user.is_staff
    assert set(user.roles.values_list("role", flat=True)) == {Role.OPERATOR, Role.ADMIN}


@pytest.mark.django_db
def test_buyer_logs_in_by_phone(seeded: dict[str, int]) -> None:
    user = login_with_password(phone="13800000001", username=None, password="jishi-demo", ip="t")

    assert user.phone == "13800000001"
    assert user.nickname == "爱喝茶的小王"
    assert Role.BUYER in set(user.roles.values_list("role", flat=True))


@pytest.mark.django_db
def test_fresh_buyers_have_nothing_attached(seeded: dict[str, int]) -> None:
    buyers = User.objects.filter(phone__in=BUYER_PHONES)
    fresh = buyers.filter(phone__in=FRESH_PHONES)

    assert buyers.count() == 20
    assert sorted(FRESH_PHONES) == [f"138000000{i}" for i in range(16, 21)]
    assert Address.objects.filter(user__in=fresh).count() == 0
    assert Address.objects.filter(user__in=buyers).count() == 15


@pytest.mark.django_db
def test_second_seed_creates_and_changes_nothing(seeded: dict[str, int]) -> None:
    before = counts()

    again = seed_demo(stdout=io.StringIO(), steps=STEPS)

    assert set(again.values()) == {0}
    assert counts() == before
    assert seeded["products"] >= 60


@pytest.mark.django_db
def test_seed_prints_progress_per_step(db: Any) -> None:
    out = io.StringIO()

    seed_demo(stdout=out, steps=STEPS)

    assert re.search(r"^\[5/7\] products 64/64 \(64 new, ", out.getvalue(), re.M)


@pytest.mark.django_db
def test_seed_orders_places_and_pays_orders(seeded: dict[str, int]) -> None:
    from jishi.core.ledger import check_ledger

    assert seed_orders(5, io.StringIO()) == 5
    assert check_ledger() == []


@pytest.mark.django_db
def test_demo_no_serve_migrates_seeds_and_prints_logins() -> None:
    out = io.StringIO()

    call_command("demo", "--no-serve", stdout=out)

    assert Product.objects.filter(status=ProductStatus.PUBLISHED).count() >= 60
    assert "admin / jishi-demo" in out.getvalue()
    assert "13800000016–13800000020" in out.getvalue()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return json.loads(response.read())


@pytest.mark.timeout(600)  # a loaded 2-core machine seeds and starts the demo slowly
def test_demo_command_serves_the_shop_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        JISHI_DATA_DIR=str(tmp_path),
        JISHI_PORT=str(_free_port()),
        # argon2 is the real hasher; the demo's 21 accounts need not pay for it here
        JISHI_FAST_PASSWORD_HASHER="1",
        PYTHONPATH=str(REPO_ROOT),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "jishi.cli", "demo"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    output: list[str] = []
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or ()], daemon=True).start()
    base = None
    try:
        deadline = time.monotonic() + 420
        while base is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            output.append(line)
            match = re.search(r"storefront\s+(http://127\.0\.0\.1:\d+)/", line)
            if match:
                base = match.group(1)
        assert base is not None, "".join(output)

        assert _get(f"{base}/healthz") == {"status": "ok"}
        assert _get(f"{base}/api/v1/products")["count"] >= 60
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=60)  # the server and the demo's fake vendors shut down in turn
        except subprocess.TimeoutExpired:
            proc.kill()
            raise

    assert code == 0, "".join(output)
    port = int(base.rsplit(":", 1)[1])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass  # the server went down with the demo command
