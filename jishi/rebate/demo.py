"""Demo rebates: a source per network pointing at the local fakes, coupon goods refreshed from the
fakes' search APIs through the real adapters, buyers registered (Taobao relation_id, Pinduoduo
备案) and given tracked links, and orders synced through the real adapters while they move
paid → settled (one refunded). ``make demo`` then keeps the fakes running (``rebate_fakes``),
serving the same goods so the console's 刷新商品 works."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from jishi.demo.seed import Progress, demo_buyers

from . import goods_refresh, links, sources, sync
from .fakes import FAKES, FakeNetwork, FakeTaobao, jd_row, pdd_row, taobao_row
from .models import Network, NetworkOrder, RebateSource, TrackedLink
from .registration import AuthorizationRequired

DEMO_APP_KEY = "jishi-demo"
DEMO_SECRET = "jishi-demo-secret"
DEMO_INVITER_CODE = "JSDEMO"
DEMO_PIDS: dict[str, str] = {Network.TAOBAO: "mm_100_200_300", Network.PDD: "10000_20000", Network.JD: "demo"}
SOURCE_NAMES: dict[str, str] = {Network.TAOBAO: "演示淘宝联盟", Network.PDD: "演示多多进宝", Network.JD: "演示京东联盟"}
STATE_FILE = "rebate-fakes.json"
FAKE_PORT_BASE = 8600

TAOBAO_GOODS = [
    ("无线蓝牙耳机 主动降噪 长续航", "数码", "声学旗舰店", "199.00", "30", "150.00", "1550", 12034),
    ("纯棉四件套 全棉床单被套", "家纺", "棉语家纺", "259.00", "60", "200.00", "2000", 5321),
    ("保温杯 316 不锈钢 500ml", "日用", "杯具工坊", "89.00", "20", "69.00", "1200", 20441),
    ("秋冬加绒卫衣 宽松百搭", "服饰", "暖冬服饰", "129.00", "40", "99.00", "2500", 8710),
    ("儿童益智积木 600 粒", "玩具", "童趣玩具", "149.00", "50", "129.00", "1800", 3120),
    ("护手霜礼盒 5 支装", "美妆", "花间小铺", "59.90", "15", "49.00", "3000", 15012),
]
PDD_GOODS = [
    ("家用抽纸 24 包 整箱", "日用", "纸品工厂店", 2990, 500, 2000, 200, "10万+"),
    ("云南冰糖心苹果 5 斤", "水果", "果园直发", 3980, 800, 3000, 150, "5万+"),
    ("洗衣凝珠 100 颗", "日用", "洁净优选", 3590, 1000, 3000, 180, "3万+"),
    ("东北大米 10 斤 新米", "粮油", "黑土地粮仓", 4590, 700, 4000, 120, "8万+"),
    ("加厚垃圾袋 200 只", "日用", "家务好帮手", 1290, 300, 1000, 220, "20万+"),
    ("手机壳 防摔全包", "数码", "壳子铺", 990, 300, 900, 300, "2万+"),
]
JD_GOODS = [
    ("京东自营 智能电饭煲 4L", "家电", "京东自营", 299, 50, 200, 6.5, 5000),
    ("京东自营 电动牙刷 声波", "个护", "京东自营", 199, 40, 150, 8, 8200),
    ("京东自营 空气炸锅 5L", "家电", "京东自营", 359, 60, 300, 5, 3900),
    ("京东自营 机械键盘 茶轴", "数码", "京东自营", 249, 30, 200, 4.5, 2100),
    ("京东自营 羽绒服 轻薄款", "服饰", "京东自营", 499, 100, 400, 10, 1600),
    ("京东自营 坚果礼盒 1.5kg", "食品", "京东自营", 168, 30, 99, 12, 12000),
]


def _taobao_items() -> list[dict[str, Any]]:
    return [
        {
            "item_id": f"60100000{n:04d}",
            "title": t,
            "category_name": cat,
            "shop_title": shop,
            "zk_final_price": price,
            "coupon_amount": coupon,
            "coupon_start_fee": threshold,
            "coupon_start_time": "2026-01-01",
            "coupon_end_time": "2099-12-31",
            "coupon_remain_count": 500 + n * 37,
            "commission_rate": rate,
            "volume": sales,
            "coupon_share_url": f"https://uland.taobao.com/coupon/edetail?e=demo{n}",
        }
        for n, (t, cat, shop, price, coupon, threshold, rate, sales) in enumerate(TAOBAO_GOODS)
    ]


def _pdd_items() -> list[dict[str, Any]]:
    return [
        {
            "goods_sign": f"demo-pdd-{n}",
            "goods_name": t,
            "category_name": cat,
            "mall_name": shop,
            "min_group_price": price,
            "coupon_discount": coupon,
            "coupon_min_order_amount": threshold,
            "coupon_start_time": 1_767_225_600,
            "coupon_end_time": 4_100_000_000,
            "coupon_remain_quantity": 300 + n * 11,
            "promotion_rate": rate,
            "sales_tip": sales,
            "goods_url": f"https://mobile.yangkeduo.com/goods.html?goods_sign=demo-pdd-{n}",
        }
        for n, (t, cat, shop, price, coupon, threshold, rate, sales) in enumerate(PDD_GOODS)
    ]


def _jd_items() -> list[dict[str, Any]]:
    return [
        {
            "skuId": f"10000000{n:04d}",
            "skuName": t,
            "categoryInfo": {"cid1Name": cat},
            "shopInfo": {"shopName": shop},
            "priceInfo": {"price": price},
            "couponInfo": {
                "couponList": [{"discount": coupon, "quota": quota, "useEndTime": 4_100_000_000_000, "remainNum": 99}]
            },
            "commissionInfo": {"commissionShare": share},
            "inOrderCount30Days": sales,
            "materialUrl": f"https://item.jd.com/10000000{n:04d}.html",
        }
        for n, (t, cat, shop, price, coupon, quota, share, sales) in enumerate(JD_GOODS)
    ]


DEMO_ITEMS: dict[str, Callable[[], list[dict[str, Any]]]] = {
    Network.TAOBAO: _taobao_items,
    Network.PDD: _pdd_items,
    Network.JD: _jd_items,
}


def keywords(network: str) -> str:
    """The demo source's search words: the categories of its goods."""
    rows: dict[str, list[tuple[Any, ...]]] = {
        Network.TAOBAO: TAOBAO_GOODS,
        Network.PDD: PDD_GOODS,
        Network.JD: JD_GOODS,
    }
    return ",".join(dict.fromkeys(str(row[1]) for row in rows[network]))


def configure_fake(fake: FakeNetwork) -> FakeNetwork:
    """A demo fake: the demo goods behind its search API, the demo inviter code, and Pinduoduo
    buyers registered as soon as they are offered the 备案 page (as if they tapped through)."""
    fake.goods = DEMO_ITEMS[fake.network]()  # type: ignore[attr-defined]
    if fake.network == Network.TAOBAO:
        fake.inviter_code = DEMO_INVITER_CODE  # type: ignore[attr-defined]
    if fake.network == Network.PDD:
        fake.auto_authorize = True  # type: ignore[attr-defined]
    return fake


def seed_goods(progress: Progress) -> int:
    """The goods come from the fakes' search APIs through the adapters and the feed mapping."""
    by_network = demo_sources()
    fakes = {network: configure_fake(FAKES[network](DEMO_APP_KEY, DEMO_SECRET)).start() for network in SOURCE_NAMES}
    created = 0
    try:
        for done, (network, fake) in enumerate(fakes.items(), 1):
            RebateSource.objects.filter(pk=by_network[network].pk).update(**fake_urls(network, fake.url))
            created += goods_refresh.refresh_source_goods(by_network[network].pk).created
            progress.update(done, len(fakes))
    finally:
        for fake in fakes.values():
            fake.stop()
    return created


def fake_urls(network: str, router_url: str) -> dict[str, str]:
    """A demo source's addresses on its fake: the API router and, for Taobao, the OAuth page a web
    buyer is sent to (served by the same fake)."""
    urls = {"endpoint": router_url}
    if network == Network.TAOBAO:
        urls["oauth_url"] = router_url.rsplit("/", 1)[0] + FakeTaobao.AUTHORIZE_PAGE
    return urls


def state_path() -> Path:
    return Path(settings.DATA_DIR) / STATE_FILE


def demo_sources() -> dict[str, RebateSource]:
    found = {s.network: s for s in RebateSource.objects.filter(name__in=SOURCE_NAMES.values())}
    for network, name in SOURCE_NAMES.items():
        if network not in found:
            found[network] = sources.create_source(
                None,
                {
                    "network": network,
                    "name": name,
                    "app_key": DEMO_APP_KEY,
                    "secret": DEMO_SECRET,
                    "endpoint": "http://127.0.0.1:9/router",  # pointed at the running fakes by ``make demo``
                    "pid": DEMO_PIDS[network],
                    "inviter_code": DEMO_INVITER_CODE if network == Network.TAOBAO else "",
                    "goods_keywords": keywords(network),
                },
            )
    return found


def demo_link(user: Any, network: str) -> TrackedLink:
    """A demo buyer's link through the network's registration: Taobao with a demo authorisation,
    Pinduoduo after the buyer "opens" the 备案 page the first call offers."""
    try:
        return links.link_for(user, network, taobao_session=f"demo-taobao-session-{user.pk}")
    except AuthorizationRequired:
        return links.link_for(user, network)


# order number, buyer (phone suffix), fee in fen, final status: settled / refunded / paid
ORDERS = [
    (1, "01", 1680, "settled"),
    (2, "02", 2350, "settled"),
    (3, "03", 990, "refunded"),
    (4, "01", 1260, "paid"),
    (5, "04", 3120, "settled"),
    (6, "05", 780, "paid"),
]

REFUND_CODE: dict[str, dict[str, int]] = {
    Network.TAOBAO: {"tk_status": 13, "refund_tag": 1},
    Network.PDD: {"order_status": 4},
}


def _row(network: str, n: int, tracking: str, fee: int) -> dict[str, Any]:
    if network == Network.TAOBAO:
        return taobao_row(n, tracking, fee=fee, item_title=TAOBAO_GOODS[n % 6][0])
    if network == Network.PDD:
        return pdd_row(n, tracking, fee=fee, goods_name=PDD_GOODS[n % 6][0])
    return jd_row(n, tracking, fee=fee, skuName=JD_GOODS[n % 6][0])


def _settle(network: str, row: dict[str, Any], fee: int) -> dict[str, Any]:
    if network == Network.TAOBAO:
        return {
            **row,
            "tk_status": 3,
            "pub_share_fee": f"{fee // 100}.{fee % 100:02d}",
            "tk_earning_time": "2026-11-28 10:00:00",
        }
    if network == Network.PDD:
        return {**row, "order_status": 5, "order_settle_time": int(timezone.now().timestamp()) - 3600 * 20}
    return {**row, "validCode": 17, "payMonth": 20261120, "actualFee": fee / 100, "finishTime": "2026-11-25 10:00:00"}


def seed_orders(progress: Progress) -> int:
    if NetworkOrder.objects.filter(source__name__in=SOURCE_NAMES.values()).exists():
        progress.update(1, 1)
        return 0
    # Promoters and bindings are distribution's demo chain (02 → 01, 03 → 02, …): 分享 shares follow it.
    people = {u.phone[-2:]: u for u in demo_buyers() if u.phone}
    sources_by_network = demo_sources()
    now = timezone.now()
    fakes = {network: configure_fake(FAKES[network](DEMO_APP_KEY, DEMO_SECRET)).start() for network in SOURCE_NAMES}
    try:
        for network, fake in fakes.items():
            RebateSource.objects.filter(pk=sources_by_network[network].pk).update(
                **fake_urls(network, fake.url), synced_until=now - timedelta(hours=52)
            )
        created = _orders_through_fakes(fakes, people, now, sources_by_network)
        state = {network: fake.dump() for network, fake in fakes.items()}
        state_path().write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    finally:
        for fake in fakes.values():
            fake.stop()
    progress.update(1, 1)
    return created


def _orders_through_fakes(
    fakes: dict[str, FakeNetwork], people: dict[str, Any], now: Any, by_network: dict[str, RebateSource]
) -> int:
    paid_at = now - timedelta(hours=50)
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for network, fake in fakes.items():
        for n, suffix, fee, _final in ORDERS:
            tracking = demo_link(people[suffix], network).tracking_id
            rows[(network, n)] = fake.put(_row(network, n, tracking, fee), paid_at + timedelta(minutes=n))
        # one order nobody's link explains: it waits in the review queue
        fake.put(_row(network, 99, "unknown-tracker", 560), paid_at + timedelta(minutes=30))
        sync.sync_source(by_network[network].pk, now=now - timedelta(hours=30))  # paid → pending
    for network, fake in fakes.items():
        for n, _suffix, fee, final in ORDERS:
            if final == "settled":
                fake.put(_settle(network, rows[(network, n)], fee), now - timedelta(hours=20))
            elif final == "refunded":
                fake.put(
                    {**rows[(network, n)], **REFUND_CODE.get(network, {"validCode": 3})}, now - timedelta(hours=19)
                )
        sync.sync_source(by_network[network].pk, now=now)  # settled → available, refunded → reversed
    return NetworkOrder.objects.filter(source__in=list(by_network.values())).count()


def fakes_command(host: str = "127.0.0.1") -> dict[str, list[str]]:
    """The ``rebate_fakes`` child of ``make demo``, on free ports, with the demo sources pointed at it."""
    from jishi.demo.processes import choose_port

    ports: dict[str, int] = {}
    for offset, network in enumerate(SOURCE_NAMES):
        ports[network] = choose_port(host, FAKE_PORT_BASE + offset * 10)
    for network, port in ports.items():
        RebateSource.objects.filter(name=SOURCE_NAMES[network]).update(
            **fake_urls(network, f"http://{host}:{port}/router")
        )
    command = [sys.executable, "-m", "jishi.cli", "rebate_fakes", "--host", host]
    for network, port in ports.items():
        command += [f"--{network}", str(port)]
    return {"rebate-fakes": command}


STEPS: list[tuple[str, Callable[[Progress], int]]] = [
    ("rebate goods", seed_goods),
    ("rebate orders", seed_orders),
]
