"""HTTP adapters of the three networks' order reports: signing, time windows and paging as each
network requires. They only talk to the network; the sync job writes what they return."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests

from .credentials import decrypt_secret
from .models import Network, OrderStatus, RebateSource
from .reports import BEIJING, OrderReport, ReportError, format_beijing, from_jd, from_pdd, from_taobao
from .signing import jd_sign, pdd_sign, top_sign

TIMEOUT_SECONDS = 15


class NetworkError(Exception):
    """The network refused a call (its error code and message) or did not answer.

    ``transient``: it did not answer usefully (unreachable, garbled, its own fault or a rate limit):
    the same call may work later. ``authorization``: it refused the buyer's own authorisation
    (a Taobao session missing, invalid or expired): the buyer must authorise again."""

    def __init__(self, code: str, message: str, *, transient: bool = False, authorization: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.transient = transient or code in {"unreachable", "bad_response"}
        self.authorization = authorization


class WindowTooLong(NetworkError):
    """The network refused a time window as longer than it allows (e.g. Taobao during big promotions)."""


@dataclass(frozen=True)
class Page:
    reports: list[OrderReport]
    errors: list[str]  # rows the adapter could not read, described (never the secret)


@dataclass(frozen=True)
class GoodsResult:
    """One page of a network's goods search, in the network's own field names (``feeds`` maps them)."""

    rows: list[dict[str, Any]]
    total: int
    has_more: bool
    cursor: str = ""  # what the next page asks with (Pinduoduo's ``list_id``)


PDD_CUSTOM_PARAMETERS_MAX = 64


def custom_parameters(uid: str) -> str:
    """Pinduoduo's ``custom_parameters`` for a buyer: ``{"uid": …}``, at most 64 bytes."""
    text = json.dumps({"uid": uid}, separators=(",", ":"))
    if len(text.encode()) > PDD_CUSTOM_PARAMETERS_MAX:
        raise ValueError("custom_parameters longer than 64 bytes")
    return text


def _absolute(url: Any) -> str:
    text = str(url or "").strip()
    return f"https:{text}" if text.startswith("//") else text


class Adapter(Protocol):
    network: str

    def max_window(self) -> timedelta: ...

    def fetch(self, start: datetime, end: datetime) -> Iterator[Page]: ...


def _read(reader: Callable[[dict[str, Any]], OrderReport], rows: list[dict[str, Any]]) -> Page:
    reports, errors = [], []
    for row in rows:
        try:
            reports.append(reader(row))
        except ReportError as exc:
            errors.append(str(exc))
    return Page(reports, errors)


class _HttpAdapter:
    network: str = ""

    def __init__(self, source: RebateSource, session: requests.Session | None = None) -> None:
        self.source = source
        self.secret = decrypt_secret(source.secret_encrypted)
        self.session = session or requests.Session()
        self.calls = 0

    def __repr__(self) -> str:  # never show the secret
        return f"<{type(self).__name__} source={self.source.pk}>"

    def _send(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        try:
            response = self.session.post(self.source.endpoint, timeout=TIMEOUT_SECONDS, **kwargs)
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise NetworkError("unreachable", type(exc).__name__) from None
        if not isinstance(body, dict):
            raise NetworkError("bad_response", "not a JSON object")
        return body


# TOP's platform codes (below 100): 26/27 the session is missing or invalid (blank, expired,
# revoked), 53 the session lacks a permission the call needs; 7 call limit, 10 service unavailable.
# A sub-code starting ``isp.`` is the network's own fault; ``isv.`` is the caller's request.
TOP_SESSION_CODES = {"26", "27", "53"}
TOP_TRANSIENT_CODES = {"7", "10"}


def top_error_kind(code: str, sub_code: str) -> dict[str, bool]:
    return {
        "authorization": code in TOP_SESSION_CODES or "session" in sub_code.lower(),
        "transient": code in TOP_TRANSIENT_CODES or sub_code.startswith("isp."),
    }


class TaobaoAdapter(_HttpAdapter):
    """``taobao.tbk.order.details.get`` by update time (``query_type`` 4), channel orders (``relation_id``).

    Windows of at most 3 hours, 20 minutes in promotion mode (or when the network says so);
    pages of 100 followed with ``position_index`` + ``jump_type`` (page numbers alone repeat page 1).
    """

    network = Network.TAOBAO
    METHOD = "taobao.tbk.order.details.get"
    NORMAL_WINDOW = timedelta(hours=3)
    PROMOTION_WINDOW = timedelta(minutes=20)
    PAGE_SIZE = 100
    MAX_PAGE_NO = 100  # the API's page_no range is 1–100
    ORDER_SCENE = 2  # 渠道订单: the buyer is known by relation_id

    def max_window(self) -> timedelta:
        return self.PROMOTION_WINDOW if self.source.promotion_mode else self.NORMAL_WINDOW

    # --- goods and buyer registration (channel relation_id) ---------------------------------

    GOODS_METHOD = "taobao.tbk.dg.material.optional"
    GOODS_PAGE_SIZE = 100  # the API's page_size range is 1–100
    REGISTER_METHOD = "taobao.tbk.sc.publisher.info.save"

    def adzone_id(self) -> str:
        """The third number of the PID ``mm_<member>_<site>_<adzone>``."""
        parts = self.source.pid.split("_")
        if len(parts) != 4 or parts[0] != "mm" or not all(p.isdigit() for p in parts[1:]):
            raise NetworkError("bad_pid", "the source's PID is not mm_<member>_<site>_<adzone>")
        return parts[3]

    def search_goods(self, keyword: str, page: int = 1, cursor: str = "") -> GoodsResult:
        """Keyword search of coupon goods (``has_coupon``), ``map_data`` rows as the network sends them."""
        body = self.call(
            self.GOODS_METHOD,
            {
                "q": keyword,
                "adzone_id": self.adzone_id(),
                "page_no": page,
                "page_size": self.GOODS_PAGE_SIZE,
                "has_coupon": "true",
            },
        )
        data = body.get("tbk_dg_material_optional_response") or {}
        rows = list((data.get("result_list") or {}).get("map_data") or [])
        total = int(data.get("total_results") or 0)
        return GoodsResult(rows, total, bool(rows) and page * self.GOODS_PAGE_SIZE < total)

    def register_buyer(self, *, uid: str, session: str) -> str:
        """The buyer's channel ``relation_id`` under the source's inviter code. ``session`` is the
        buyer's own Taobao authorisation (the sc APIs act for the authorised user); the network
        answers the same relation_id again for a buyer already registered, so a retry is safe."""
        if not self.source.inviter_code:
            raise NetworkError("no_inviter_code", "the source has no channel inviter code")
        body = self.call(
            self.REGISTER_METHOD,
            {"session": session, "inviter_code": self.source.inviter_code, "info_type": 1, "note": uid},
        )
        data = (body.get("tbk_sc_publisher_info_save_response") or {}).get("data") or {}
        relation_id = str(data.get("relation_id") or "")
        if not relation_id.isdigit():
            raise NetworkError("bad_response", "no relation_id in the answer")
        return relation_id

    TOKEN_METHOD = "taobao.top.auth.token.create"

    def create_token(self, code: str) -> str:
        """The buyer's access token (the ``session`` of the sc APIs) for the one-use ``code`` the
        Taobao OAuth page sent back (server-side flow). Any refusal is the code's: the buyer must
        authorise again."""
        try:
            body = self.call(self.TOKEN_METHOD, {"code": code})
        except NetworkError as exc:
            if exc.transient:
                raise
            raise NetworkError(exc.code, exc.message, authorization=True) from None
        raw = (body.get("top_auth_token_create_response") or {}).get("token_result") or ""
        try:
            token = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            raise NetworkError("bad_response", "token_result is not JSON") from None
        access_token = str((token or {}).get("access_token") or "") if isinstance(token, dict) else ""
        if not access_token:
            raise NetworkError("bad_response", "no access_token in token_result")
        return access_token

    def call(self, method: str, business: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "method": method,
            "app_key": self.source.app_key,
            "timestamp": format_beijing(datetime.now(BEIJING)),
            "format": "json",
            "v": "2.0",
            "sign_method": "md5",
            **{k: str(v) for k, v in business.items() if v is not None},
        }
        params["sign"] = top_sign(params, self.secret, "md5")
        body = self._send(data=params)
        if "error_response" in body:
            error = body["error_response"]
            code = str(error.get("sub_code") or error.get("code") or "error")
            message = str(error.get("sub_msg") or error.get("msg") or "")
            if code == "isv.time-window-too-long":
                raise WindowTooLong(code, message)
            raise NetworkError(code, message, **top_error_kind(str(error.get("code") or ""), code))
        return body

    def _window(self, start: datetime, end: datetime) -> Iterator[Page]:
        position_index: str | None = None
        page_no = 1
        while True:
            body = self.call(
                self.METHOD,
                {
                    "query_type": 4,
                    "start_time": format_beijing(start),
                    "end_time": format_beijing(end),
                    "page_size": self.PAGE_SIZE,
                    "page_no": page_no,
                    "order_scene": self.ORDER_SCENE,
                    "position_index": position_index,
                    "jump_type": 1 if position_index else None,
                },
            )
            data = body.get("tbk_order_details_get_response", {}).get("data", {})
            rows = (data.get("results") or {}).get("publisher_order_dto") or []
            yield _read(from_taobao, rows)
            if not data.get("has_next") or not rows:
                return
            position_index = str(data.get("position_index") or "")
            page_no += 1
            if page_no > self.MAX_PAGE_NO:
                raise NetworkError("too_many_pages", "more than 10,000 orders in one window: turn on promotion mode")

    def fetch(self, start: datetime, end: datetime) -> Iterator[Page]:
        try:
            yield from self._window(start, end)
        except WindowTooLong:
            # A big promotion the operator did not flag: the same window again in 20-minute pieces.
            piece = start
            while piece < end:
                piece_end = min(piece + self.PROMOTION_WINDOW, end)
                yield from self._window(piece, piece_end)
                piece = piece_end

    def fetch_refunds(self, start: datetime) -> Iterator[list[dict[str, Any]]]:
        """``taobao.tbk.relation.refund``: 维权 cases of channel orders (``biz_type`` 1, relation_id)
        updated (``search_type`` 5) at or after ``start``, pages of 100 by ``page_no``."""
        page_no = 1
        while True:
            option = {
                "page_size": REFUND_PAGE_SIZE,
                "search_type": 5,
                "refund_type": 0,
                "start_time": format_beijing(start),
                "page_no": page_no,
                "biz_type": 1,
            }
            body = self.call(REFUND_METHOD, {"search_option": json.dumps(option, separators=(",", ":"))})
            rows, total = _top_list(body, "tbk_relation_refund_response")
            yield rows
            if not rows or page_no * REFUND_PAGE_SIZE >= total:
                return
            page_no += 1

    def fetch_penalties(self, start: datetime, span_days: int) -> Iterator[list[dict[str, Any]]]:
        """``taobao.tbk.dg.punish.order.get``: penalised orders created within ``span_days`` (1–30) of ``start``."""
        if not 1 <= span_days <= PENALTY_MAX_SPAN_DAYS:
            raise ValueError("span_days must be 1–30")
        page_no = 1
        while True:
            option = {
                "start_time": format_beijing(start),
                "span": span_days,
                "page_size": PENALTY_PAGE_SIZE,
                "page_no": page_no,
            }
            body = self.call(PENALTY_METHOD, {"af_order_option": json.dumps(option, separators=(",", ":"))})
            rows, total = _top_list(body, "tbk_dg_punish_order_get_response")
            yield rows
            if not rows or page_no * PENALTY_PAGE_SIZE >= total:
                return
            page_no += 1


# --- Taobao refund (维权) and penalty reports -------------------------------------------------


def _top_list(body: dict[str, Any], response: str) -> tuple[list[dict[str, Any]], int]:
    """``{response: {result: {data: {results: {result: [...]}, total_count}}}}`` of the TOP report APIs."""
    result = body.get(response, {}).get("result") or {}
    if result.get("biz_error_code") not in (None, 0, "0", ""):
        raise NetworkError(str(result.get("biz_error_code")), str(result.get("biz_error_desc") or ""))
    data = result.get("data") or {}
    rows = (data.get("results") or {}).get("result") or []
    return list(rows), int(data.get("total_count") or 0)


REFUND_METHOD = "taobao.tbk.relation.refund"
REFUND_PAGE_SIZE = 100
PENALTY_METHOD = "taobao.tbk.dg.punish.order.get"
PENALTY_PAGE_SIZE = 100
PENALTY_MAX_SPAN_DAYS = 30


class PddAdapter(_HttpAdapter):
    """``pdd.ddk.order.list.increment.get``: windows ≤ 24 h within the last 90 days, pages fetched
    from the last to the first (orders updated while paging shift forwards, so front-to-back misses
    them): one counting call, then every page in reverse with ``return_count=false``."""

    network = Network.PDD
    TYPE = "pdd.ddk.order.list.increment.get"
    WINDOW = timedelta(hours=24)
    PAGE_SIZE = 100

    def max_window(self) -> timedelta:
        return self.WINDOW

    # --- goods and buyer registration (备案 of pid + custom_parameters) -----------------------

    GOODS_TYPE = "pdd.ddk.goods.search"
    GOODS_PAGE_SIZE = 100  # page_size 10–100
    PROM_TYPE = "pdd.ddk.rp.prom.url.generate"
    AUTHORITY_TYPE = "pdd.ddk.member.authority.query"
    REGISTER_CHANNEL_TYPE = 10  # 生成绑定备案链接

    def search_goods(self, keyword: str, page: int = 1, cursor: str = "") -> GoodsResult:
        body = self.call(
            self.GOODS_TYPE,
            {
                "keyword": keyword,
                "page": page,
                "page_size": self.GOODS_PAGE_SIZE,
                "pid": self.source.pid or None,
                "with_coupon": True,
                "list_id": cursor or None,
            },
        )
        data = body.get("goods_search_response") or {}
        rows = list(data.get("goods_list") or [])
        total = int(data.get("total_count") or 0)
        more = bool(rows) and page * self.GOODS_PAGE_SIZE < total
        return GoodsResult(rows, total, more, str(data.get("list_id") or ""))

    def buyer_registered(self, uid: str) -> bool:
        """``pdd.ddk.member.authority.query``: has this pid + ``{"uid"}`` pair been registered (备案)?"""
        body = self.call(self.AUTHORITY_TYPE, {"pid": self.source.pid, "custom_parameters": custom_parameters(uid)})
        data = body.get("authority_query_response")
        if not isinstance(data, dict) or "bind" not in data:
            raise NetworkError("bad_response", "no bind in the answer")
        return str(data.get("bind")) == "1"

    def registration_url(self, uid: str) -> str:
        """The 备案 page the buyer opens once (``channel_type`` 10), from ``pdd.ddk.rp.prom.url.generate``."""
        body = self.call(
            self.PROM_TYPE,
            {
                "channel_type": self.REGISTER_CHANNEL_TYPE,
                "p_id_list": json.dumps([self.source.pid]),
                "custom_parameters": custom_parameters(uid),
            },
        )
        urls = (body.get("rp_promotion_url_generate_response") or {}).get("url_list") or []
        first = urls[0] if urls and isinstance(urls[0], dict) else {}
        url = _absolute(first.get("mobile_url") or first.get("url"))
        if not url.startswith(("http://", "https://")):
            raise NetworkError("bad_response", "no registration url in the answer")
        return url[:500]

    def call(self, api_type: str, business: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "type": api_type,
            "client_id": self.source.app_key,
            "timestamp": str(int(time.time())),
            "data_type": "JSON",
            **{k: _pdd_value(v) for k, v in business.items() if v is not None},
        }
        params["sign"] = pdd_sign(params, self.secret)
        body = self._send(json=params)
        if "error_response" in body:
            error = body["error_response"]
            raise NetworkError(str(error.get("sub_code") or error.get("error_code")), str(error.get("error_msg") or ""))
        return body

    def _page(self, start: datetime, end: datetime, page: int, count: bool) -> tuple[list[dict[str, Any]], int]:
        body = self.call(
            self.TYPE,
            {
                "start_update_time": int(start.timestamp()),
                "end_update_time": int(end.timestamp()),
                "page": page,
                "page_size": self.PAGE_SIZE,
                "return_count": count,
            },
        )
        data = body.get("order_list_get_response", {})
        return list(data.get("order_list") or []), int(data.get("total_count") or 0)

    def fetch(self, start: datetime, end: datetime) -> Iterator[Page]:
        rows, total = self._page(start, end, 1, count=True)
        pages = math.ceil(total / self.PAGE_SIZE)
        if pages <= 1:
            yield self.clarify(_read(from_pdd, rows))
            return
        for page in range(pages, 0, -1):
            rows, _total = self._page(start, end, page, count=False)
            yield self.clarify(_read(from_pdd, rows))

    DETAIL_TYPE = "pdd.ddk.order.detail.get"
    # 审核失败 (4) is a refund or another failure: the order's detail says which (``return_status``
    # 0 none, 1 after-sale open, 2 after-sale done, i.e. refunded).
    AMBIGUOUS = {"4"}
    RETURN_DONE = "2"

    def order_detail(self, order_sn: str) -> dict[str, Any]:
        """``pdd.ddk.order.detail.get`` of one order (its ``order_detail_response``)."""
        body = self.call(self.DETAIL_TYPE, {"order_sn": order_sn})
        return dict(body.get("order_detail_response") or {})

    def clarify(self, page: Page) -> Page:
        """Ask the detail of each order the increment report leaves ambiguous; a refunded one is
        reported ``refunded``. A detail the network refuses leaves the order as reported."""
        reports = []
        for report in page.reports:
            if report.raw_status in self.AMBIGUOUS:
                try:
                    detail = self.order_detail(report.order_id)
                except NetworkError:
                    detail = {}
                if str(detail.get("return_status", "")) == self.RETURN_DONE:
                    report = replace(report, status=OrderStatus.REFUNDED)
            reports.append(report)
        return Page(reports, page.errors)


def _pdd_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class JdAdapter(_HttpAdapter):
    """``jd.union.open.order.row.query`` by update time (``type`` 3): windows ≤ 1 hour, pages of 200
    by ``pageIndex`` while ``hasMore``; business parameters in ``360buy_param_json``."""

    network = Network.JD
    METHOD = "jd.union.open.order.row.query"
    WINDOW = timedelta(hours=1)
    PAGE_SIZE = 200

    def max_window(self) -> timedelta:
        return self.WINDOW

    # --- goods (JD tracks buyers by subUnionId on the link: no registration) -----------------

    GOODS_METHOD = "jd.union.open.goods.query"
    GOODS_PAGE_SIZE = 30  # 单页数最大30

    def search_goods(self, keyword: str, page: int = 1, cursor: str = "") -> GoodsResult:
        request = {"keyword": keyword, "pageIndex": page, "pageSize": self.GOODS_PAGE_SIZE, "isCoupon": 1}
        body = self.call(self.GOODS_METHOD, {"goodsReqDTO": request})
        outer = body.get("jd_union_open_goods_query_responce") or {}
        try:
            result = json.loads(outer.get("queryResult") or "{}")
        except ValueError:
            raise NetworkError("bad_response", "queryResult is not JSON") from None
        if int(result.get("code") or 0) != 200:
            raise NetworkError(str(result.get("code")), str(result.get("message") or ""))
        rows = list(result.get("data") or [])
        total = int(result.get("totalCount") or 0)
        return GoodsResult(rows, total, bool(rows) and page * self.GOODS_PAGE_SIZE < total)

    def call(self, method: str, business: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "method": method,
            "app_key": self.source.app_key,
            "timestamp": format_beijing(datetime.now(BEIJING)),
            "v": "1.0",
            "360buy_param_json": json.dumps(business, ensure_ascii=False, separators=(",", ":")),
        }
        params["sign"] = jd_sign(params, self.secret)
        body = self._send(data=params)
        if "error_response" in body:
            error = body["error_response"]
            raise NetworkError(
                str(error.get("code") or "error"), str(error.get("zh_desc") or error.get("en_desc") or "")
            )
        return body

    def fetch(self, start: datetime, end: datetime) -> Iterator[Page]:
        page = 1
        while True:
            order_req = {
                "pageIndex": page,
                "pageSize": self.PAGE_SIZE,
                "type": 3,
                "startTime": format_beijing(start),
                "endTime": format_beijing(end),
            }
            body = self.call(self.METHOD, {"orderReq": order_req})
            outer = body.get("jd_union_open_order_row_query_responce", {})
            try:
                result = json.loads(outer.get("queryResult") or "{}")
            except ValueError:
                raise NetworkError("bad_response", "queryResult is not JSON") from None
            if int(result.get("code") or 0) != 200:
                raise NetworkError(str(result.get("code")), str(result.get("message") or ""))
            yield _read(from_jd, list(result.get("data") or []))
            if not result.get("hasMore"):
                return
            page += 1


ADAPTERS: dict[str, type[_HttpAdapter]] = {
    Network.TAOBAO: TaobaoAdapter,
    Network.PDD: PddAdapter,
    Network.JD: JdAdapter,
}


def adapter_for(source: RebateSource, session: requests.Session | None = None) -> Adapter:
    return ADAPTERS[source.network](source, session)  # type: ignore[return-value]


def http_adapter(source: RebateSource, session: requests.Session | None = None) -> Any:
    """The concrete adapter (goods search and registration are network-specific methods)."""
    return ADAPTERS[source.network](source, session)
