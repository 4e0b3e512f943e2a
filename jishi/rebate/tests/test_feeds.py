"""Feed files in the networks' field names: goods and order reports, JSON and CSV, row errors."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from jishi.core import ledger
from jishi.core.models import AccountKind
from jishi.rebate import feeds, goods
from jishi.rebate.fakes import pdd_row, taobao_row
from jishi.rebate.models import Network, NetworkOrder, RebateGoods

from .conftest import tracked_buyer

pytestmark = pytest.mark.django_db

TAOBAO_ITEM = {
    "item_id": "601234567890",
    "title": "无线蓝牙耳机 降噪",
    "pict_url": "https://img.example/tb/1.jpg",
    "small_images": {"string": ["https://img.example/tb/2.jpg"]},
    "zk_final_price": "199.00",
    "coupon_amount": "30",
    "coupon_start_fee": "150.00",
    "coupon_start_time": "2026-11-01",
    "coupon_end_time": "2099-12-31",
    "coupon_remain_count": 800,
    "commission_rate": "1550",
    "shop_title": "声学旗舰店",
    "volume": 12034,
    "category_name": "数码",
    "coupon_share_url": "https://uland.example/coupon?id=1",
}
PDD_ITEM = {
    "goods_sign": "E9H2fK",
    "goods_name": "家用抽纸 24 包",
    "goods_thumbnail_url": "https://img.example/pdd/1.jpg",
    "min_group_price": 2990,
    "coupon_discount": 500,
    "coupon_min_order_amount": 2000,
    "coupon_start_time": 1_790_000_000,
    "coupon_end_time": 4_100_000_000,
    "coupon_remain_quantity": 100,
    "promotion_rate": 200,
    "mall_name": "纸品工厂店",
    "sales_tip": "10万+",
    "category_name": "日用",
}
JD_CSV = (
    "skuId,skuName,priceInfo.price,couponInfo.couponList.discount,couponInfo.couponList.quota,"
    "couponInfo.couponList.useEndTime,commissionInfo.commissionShare,shopInfo.shopName,inOrderCount30Days,"
    "categoryInfo.cid1Name\n"
    "100012345,京东自营 电饭煲,299.00,50,200,4100000000000,6.5,京东自营,5000,家电\n"
    ",缺编号,10,0,0,0,1,店,1,家电\n"
    "100012346,价格不对,abc,0,0,0,1,店,1,家电\n"
)


def test_taobao_goods_json_in_the_networks_field_names() -> None:
    report = feeds.import_goods(Network.TAOBAO, [TAOBAO_ITEM])
    item = RebateGoods.objects.get()
    assert (report.created, report.failed) == (1, 0)
    assert (item.item_id, item.price, item.coupon_amount, item.coupon_threshold) == ("601234567890", 19900, 3000, 15000)
    assert (item.commission_rate_bp, item.sales, item.coupon_remaining, item.category) == (1550, 12034, 800, "数码")
    assert item.image_urls == ["https://img.example/tb/1.jpg", "https://img.example/tb/2.jpg"]


def test_pdd_goods_and_a_second_import_updates() -> None:
    feeds.import_goods(Network.PDD, [PDD_ITEM])
    report = feeds.import_goods(Network.PDD, [{**PDD_ITEM, "min_group_price": 2790}])
    item = RebateGoods.objects.get()
    assert (report.created, report.updated) == (0, 1)
    assert (item.price, item.coupon_amount, item.commission_rate_bp, item.sales) == (2790, 500, 2000, 100_000)


def test_jd_csv_with_row_errors_reported_by_number() -> None:
    report = feeds.import_goods(Network.JD, feeds.read_rows(JD_CSV, "csv"))
    assert (report.total, report.created, report.failed) == (3, 1, 2)
    assert report.errors == [(2, "item id: required"), (3, "priceInfo.price: not an amount: 'abc'")]
    item = RebateGoods.objects.get()
    assert (item.price, item.coupon_amount, item.coupon_threshold, item.commission_rate_bp) == (29900, 5000, 20000, 650)


def test_order_feed_credits_like_the_sync_and_reports_bad_rows() -> None:
    buyer, link = tracked_buyer(Network.TAOBAO)
    rows = [taobao_row(1, link.tracking_id, fee=1000), taobao_row(2, link.tracking_id, fee=600), {"tk_status": 12}]
    report = feeds.import_orders(Network.TAOBAO, rows)
    assert (report.total, report.created, report.failed) == (3, 2, 1)
    assert report.errors == [(3, "trade_parent_id: required")]
    assert ledger.balance_of(buyer.pk, AccountKind.COMMISSION_FROZEN) == 500 + 300
    settled = [taobao_row(1, link.tracking_id, tk_status=3, fee=1000)]
    assert feeds.import_orders(Network.TAOBAO, settled).updated == 1
    assert ledger.balance_of(buyer.pk, AccountKind.COMMISSION_AVAILABLE) == 500


def test_command_shows_a_progress_bar_and_fails_on_bad_rows(tmp_path: Path) -> None:
    _buyer, link = tracked_buyer(Network.PDD)
    good = tmp_path / "orders.json"
    good.write_text(json.dumps([pdd_row(n, link.tracking_id) for n in range(150)]), encoding="utf-8")
    out = io.StringIO()
    call_command("rebate_import", str(good), "--network", "pdd", "--orders", stdout=out)
    assert f"[{'#' * 30}] 150/150" in out.getvalue()
    assert "150 rows: 150 created, 0 updated, 0 failed" in out.getvalue()
    bad = tmp_path / "goods.csv"
    bad.write_text(JD_CSV, encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 row"):
        call_command("rebate_import", str(bad), "--network", "jd", stdout=io.StringIO(), stderr=err)
    assert "row 2: item id: required" in err.getvalue()
    assert NetworkOrder.objects.count() == 150


def test_search_in_chinese_and_pinyin() -> None:
    feeds.import_goods(Network.TAOBAO, [TAOBAO_ITEM])
    feeds.import_goods(Network.PDD, [PDD_ITEM])
    assert [g.title for g in goods.feed(q="耳机")] == ["无线蓝牙耳机 降噪"]
    assert [g.title for g in goods.feed(q="erji")] == ["无线蓝牙耳机 降噪"]
    assert [g.title for g in goods.feed(q="抽纸", network=Network.PDD)] == ["家用抽纸 24 包"]
    assert list(goods.feed(q="抽纸", network=Network.JD)) == []


def test_offer_per_viewer() -> None:
    feeds.import_goods(Network.TAOBAO, [TAOBAO_ITEM])
    item = RebateGoods.objects.get()
    # ¥199 − ¥30 coupon = ¥169; commission 15.5% = ¥26.20 (2619.5 half up); buyer 50% = ¥13.10; promoter 20% = ¥5.24
    assert goods.offer(item, is_promoter=False) == goods.Offer(16900, 3000, 1310, 4310, None)
    assert goods.offer(item, is_promoter=True).share_earn == 524


def test_coupon_below_threshold_or_expired_does_not_count() -> None:
    feeds.import_goods(Network.TAOBAO, [{**TAOBAO_ITEM, "coupon_start_fee": "300"}])
    assert goods.price_after_coupon(RebateGoods.objects.get()) == 19900


def test_dead_coupons_leave_the_feed() -> None:
    feeds.import_goods(Network.TAOBAO, [TAOBAO_ITEM])
    feeds.import_goods(Network.PDD, [{**PDD_ITEM, "coupon_remain_quantity": 0}])
    assert goods.expire_dead_coupons() == 1
    assert goods.expire_dead_coupons(timezone.now() + timedelta(days=365 * 80)) == 1
    assert RebateGoods.objects.filter(is_active=True).count() == 0
