"""Local fakes of the three networks' order-report APIs, for tests, the demo and the benchmark.

Each is a small threaded HTTP server on a free port that checks the request signature and
timestamp as the network does and enforces its window and paging rules, so that a client
breaking a rule loses orders exactly as it would against the real network:

- Taobao: a window longer than 3 h (20 min in promotion mode) is refused; a page number
  without ``position_index`` + ``jump_type`` serves the first page again.
- Pinduoduo: windows ≤ 24 h within the last 90 days, ``page_size`` 10–100; with ``churn`` set,
  each page served moves the earliest order of the window to "now" (an update while paging),
  which shifts later orders forwards, so front-to-back paging skips one per page.
- JD: windows ≤ 1 h, ``pageSize`` ≤ 200, ``hasMore`` paging.
"""

from __future__ import annotations

import base64
import json
import random
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

from .reports import BEIJING, format_beijing
from .signing import jd_sign, pdd_sign, signature_matches, top_sign

TIMESTAMP_TOLERANCE = timedelta(minutes=10)


def _now() -> datetime:
    return datetime.now(BEIJING).replace(microsecond=0)


class FakeNetwork(ABC):
    """Orders kept in memory by key, each with the time it was last updated."""

    network = ""
    key_fields: tuple[str, ...] = ()

    def __init__(self, app_key: str = "fake-app-key", secret: str = "fake-secret", port: int = 0) -> None:  # noqa: S107
        self.app_key = app_key
        self.secret = secret
        self.clock: Callable[[], datetime] = _now
        self.rows: dict[tuple[str, ...], dict[str, Any]] = {}
        self.updated: dict[tuple[str, ...], datetime] = {}
        self.calls = 0
        self.refused: list[str] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                if "json" in (self.headers.get("Content-Type") or ""):
                    try:
                        loaded = json.loads(raw or "{}")
                    except ValueError:
                        loaded = {}
                    params = {k: _text(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
                else:
                    params = dict(parse_qsl(raw, keep_blank_values=True))
                params.update(parse_qsl(urlparse(self.path).query, keep_blank_values=True))
                self._answer(params)

            def do_GET(self) -> None:
                html = fake.page(urlparse(self.path))  # a page a buyer opens (Pinduoduo's 备案), if any
                if html is not None:
                    data = html.encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                self._answer(dict(parse_qsl(urlparse(self.path).query, keep_blank_values=True)))

            def _answer(self, params: dict[str, str]) -> None:
                with fake.lock:
                    fake.calls += 1
                    body = fake.handle(params)
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    # --- life ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/router"

    def start(self) -> FakeNetwork:
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"fake-{self.network}", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeNetwork:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- data ---------------------------------------------------------------------------

    def put(self, row: dict[str, Any], updated_at: datetime | None = None) -> dict[str, Any]:
        """Add or change an order (merging fields); it becomes visible at ``updated_at`` (default now)."""
        moment = (updated_at or self.clock()).astimezone(BEIJING).replace(microsecond=0)
        key = tuple(str(row[f]) for f in self.key_fields)
        with self.lock:
            merged = {**self.rows.get(key, {}), **row}
            self.stamp(merged, moment)
            self.rows[key] = merged
            self.updated[key] = moment
        return merged

    def put_many(self, rows: Iterable[tuple[dict[str, Any], datetime]]) -> int:
        count = 0
        for row, moment in rows:
            self.put(row, moment)
            count += 1
        return count

    def dump(self) -> list[dict[str, Any]]:
        """Every order with its update time (to hand the same data to another process)."""
        with self.lock:
            return [{"row": self.rows[k], "updated": self.updated[k].isoformat()} for k in sorted(self.rows)]

    def load(self, rows: Iterable[dict[str, Any]]) -> int:
        return self.put_many((item["row"], datetime.fromisoformat(item["updated"])) for item in rows)

    @abstractmethod
    def stamp(self, row: dict[str, Any], moment: datetime) -> None:
        """Write ``moment`` into the row's update-time field (each network names it differently)."""

    def window_keys(self, start: datetime, end: datetime) -> list[tuple[str, ...]]:
        keys = [k for k, t in self.updated.items() if start <= t < end]
        keys.sort(key=lambda k: (self.updated[k], k))
        return keys

    @abstractmethod
    def handle(self, params: dict[str, str]) -> dict[str, Any]:
        """The JSON answer to one request's parameters."""

    def timestamp_ok(self, moment: datetime | None) -> bool:
        return moment is not None and abs(moment - _now()) <= TIMESTAMP_TOLERANCE

    def refuse(self, why: str, body: dict[str, Any]) -> dict[str, Any]:
        self.refused.append(why)
        return body

    def page(self, url: Any) -> str | None:
        """The HTML of a page a buyer's browser opens on the network, or None (an API call)."""
        return None


_BUTTON = "display:block;margin:14px auto;max-width:320px;padding:12px;border-radius:22px;text-decoration:none;"


def _fake_page(title: str, body: str) -> str:
    """A network's own page a buyer's browser opens (no assets: the fakes serve nothing else)."""
    return (
        '<!doctype html><html lang="zh-Hans"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<title>{title}</title><body style="font:16px sans-serif;text-align:center;padding:3em 1em">'
        f"{body}</body></html>"
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _beijing(text: str | None) -> datetime | None:
    try:
        return datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError:
        return None


def _int(text: Any, default: int) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


class FakeTaobao(FakeNetwork):
    network = "taobao"
    key_fields = ("trade_parent_id", "trade_id")
    METHOD = "taobao.tbk.order.details.get"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.promotion_mode = False
        self.refunds: dict[str, dict[str, Any]] = {}  # 维权 cases by key, with their update time
        self.penalties: dict[str, dict[str, Any]] = {}  # penalised sub-orders by tb_trade_id
        self.goods: list[dict[str, Any]] = []  # map_data rows served by the goods search
        self.inviter_code = "FAKEINVITE"  # the channel inviter code the fake accepts
        self.relations: dict[str, str] = {}  # buyer session -> relation_id
        self.expired_sessions: set[str] = set()  # buyer authorisations the network no longer honours
        self.codes: dict[str, str] = {}  # OAuth code shown on the authorisation page -> the session it gives
        self.used_codes: set[str] = set()
        self.authorizations = 0  # authorisation pages shown
        self.failing_with: dict[str, Any] | None = None  # an error_response every registration answers

    def stamp(self, row: dict[str, Any], moment: datetime) -> None:
        row["modified_time"] = format_beijing(moment)

    AUTHORIZE_PAGE = "/authorize"

    @property
    def authorize_url(self) -> str:
        return self.url.rsplit("/", 1)[0] + self.AUTHORIZE_PAGE

    def page(self, url: Any) -> str | None:
        """Taobao's OAuth authorisation page (server-side flow): 授权 goes back to ``redirect_uri``
        with a one-use ``code`` and the caller's ``state``, 取消 with ``error=access_denied``."""
        if url.path != self.AUTHORIZE_PAGE:
            return None
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        redirect_uri, state = query.get("redirect_uri", ""), query.get("state", "")
        ok = query.get("client_id") == self.app_key and query.get("response_type") == "code"
        if not ok or not redirect_uri.startswith(("http://", "https://")):
            return _fake_page("淘宝授权", "<h1>应用参数错误</h1><p>client_id / response_type / redirect_uri</p>")
        with self.lock:
            self.authorizations += 1
            code = f"fakecode{self.authorizations}{random.randrange(10**8):08d}"
            self.codes[code] = f"6100{self.authorizations:04d}{random.randrange(10**12):012d}"
        sep = "&" if "?" in redirect_uri else "?"
        grant = redirect_uri + sep + urlencode({"code": code, "state": state})
        denied = {"error": "access_denied", "error_description": "用户取消授权", "state": state}
        deny = redirect_uri + sep + urlencode(denied)
        body = (
            '<div style="font-size:44px;color:#ff5000;font-weight:700">淘宝</div>'
            '<h1 style="font-size:19px">“集市”申请获得以下权限</h1>'
            '<p style="color:#666">获得你的公开信息（昵称、头像）· 以你的身份备案推广渠道</p>'
            f'<a id="grant" href="{escape(grant)}" style="{_BUTTON}background:#ff5000;color:#fff">授权</a>'
            f'<a id="deny" href="{escape(deny)}" style="{_BUTTON}background:#f2f2f2;color:#333">取消</a>'
        )
        return _fake_page("淘宝授权", body)

    @staticmethod
    def error(code: int, msg: str, sub_code: str, sub_msg: str) -> dict[str, Any]:
        return {"error_response": {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}}

    def handle(self, params: dict[str, str]) -> dict[str, Any]:
        sign = params.get("sign", "")
        if params.get("app_key") != self.app_key:
            return self.refuse("app_key", self.error(29, "Invalid app Key", "isv.invalid-app-key", ""))
        method = params.get("sign_method", "md5")
        if method not in {"md5", "hmac"} or not signature_matches(top_sign(params, self.secret, method), sign):
            return self.refuse("sign", self.error(25, "Invalid signature", "isv.invalid-signature", ""))
        if not self.timestamp_ok(_beijing(params.get("timestamp"))):
            return self.refuse("timestamp", self.error(31, "Invalid timestamp", "isv.invalid-timestamp", ""))
        report = {REFUND_METHOD: self.handle_refunds, PENALTY_METHOD: self.handle_penalties}.get(
            params.get("method", "")
        )
        if report is not None:
            return report(params)
        if params.get("method") in TAOBAO_API:
            return TAOBAO_API[params["method"]](self, params)
        if params.get("method") != self.METHOD:
            return self.refuse("method", self.error(22, "Invalid method", "isv.invalid-method", ""))
        start, end = _beijing(params.get("start_time")), _beijing(params.get("end_time"))
        if start is None or end is None or end <= start:
            return self.refuse(
                "window", self.error(15, "Remote service error", "isv.invalid-parameter", "时间格式错误")
            )
        limit = timedelta(minutes=20) if self.promotion_mode else timedelta(hours=3)
        if end - start > limit:
            return self.refuse(
                "window", self.error(15, "Remote service error", "isv.time-window-too-long", "查询时间跨度超过限制")
            )
        size = _int(params.get("page_size"), 20)
        if not 1 <= size <= 100:
            return self.refuse(
                "page_size", self.error(15, "Remote service error", "isv.invalid-parameter", "page_size")
            )
        keys = self.window_keys(start, end)
        offset = 0
        cursor = params.get("position_index")
        if cursor and params.get("jump_type") == "1" and _int(params.get("page_no"), 1) > 1:
            try:
                offset = int(base64.b64decode(cursor).decode().rsplit(":", 1)[1])
            except (ValueError, IndexError):
                offset = 0
        page = keys[offset : offset + size]
        next_offset = offset + len(page)
        data = {
            "has_next": next_offset < len(keys),
            "has_pre": offset > 0,
            "page_no": _int(params.get("page_no"), 1),
            "page_size": size,
            "position_index": base64.b64encode(f"{format_beijing(start)}:{next_offset}".encode()).decode(),
            "results": {"publisher_order_dto": [dict(self.rows[k]) for k in page]},
        }
        return {"tbk_order_details_get_response": {"data": data, "request_id": f"fake{self.calls}"}}

    def put_refund(self, row: dict[str, Any], updated_at: datetime | None = None) -> dict[str, Any]:
        """Add or change a 维权 case (by ``tb_trade_id`` and ``tk_refund_time``), updated at ``updated_at``."""
        moment = (updated_at or self.clock()).astimezone(BEIJING).replace(microsecond=0)
        key = f"{row['tb_trade_id']}:{row.get('tk_refund_time', '')}"
        with self.lock:
            merged = {**self.refunds.get(key, {}), **row, "modified_time": format_beijing(moment)}
            self.refunds[key] = merged
        return merged

    def put_penalty(self, row: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.penalties[str(row["tb_trade_id"])] = dict(row)
        return row

    def handle_refunds(self, params: dict[str, str]) -> dict[str, Any]:
        option = _option(params, "search_option")
        start = _beijing(option.get("start_time")) if option else None
        if option is None or start is None or _int(option.get("search_type"), 0) not in {1, 2, 3, 4, 5}:
            return self.refuse(
                "search_option", self.error(15, "Remote service error", "isv.invalid-parameter", "search_option")
            )
        size, page_no = _int(option.get("page_size"), 20), _int(option.get("page_no"), 1)
        if not 1 <= size <= 100 or page_no < 1:
            return self.refuse(
                "page_size", self.error(15, "Remote service error", "isv.invalid-parameter", "page_size")
            )
        # Only search_type 5 (update time) is served by update time; the others by the case's creation.
        field = "modified_time" if option.get("search_type") == 5 else "tk_refund_time"
        chosen = sorted(
            (row for row in self.refunds.values() if (_beijing(row.get(field)) or start) >= start),
            key=lambda row: (row.get(field) or "", str(row["tb_trade_id"])),
        )
        page = chosen[(page_no - 1) * size : page_no * size]
        return _top_page("tbk_relation_refund_response", [dict(r) for r in page], page_no, size, len(chosen))

    def handle_penalties(self, params: dict[str, str]) -> dict[str, Any]:
        option = _option(params, "af_order_option")
        start = _beijing(option.get("start_time")) if option else None
        span = _int(option.get("span"), 0) if option else 0
        if option is None or start is None or not 1 <= span <= 30:
            return self.refuse(
                "af_order_option", self.error(15, "Remote service error", "isv.invalid-parameter", "span 1-30")
            )
        size, page_no = _int(option.get("page_size"), 20), _int(option.get("page_no"), 1)
        if not 1 <= size <= 100 or page_no < 1:
            return self.refuse(
                "page_size", self.error(15, "Remote service error", "isv.invalid-parameter", "page_size")
            )
        end = start + timedelta(days=span)
        chosen = sorted(
            (r for r in self.penalties.values() if start <= (_beijing(r.get("tk_trade_create_time")) or start) < end),
            key=lambda r: str(r["tb_trade_id"]),
        )
        page = chosen[(page_no - 1) * size : page_no * size]
        return _top_page("tbk_dg_punish_order_get_response", [dict(r) for r in page], page_no, size, len(chosen))


# --- Taobao refund (维权) and penalty reports ----------------------------------------------------

REFUND_METHOD = "taobao.tbk.relation.refund"
PENALTY_METHOD = "taobao.tbk.dg.punish.order.get"


def _option(params: dict[str, str], name: str) -> dict[str, Any] | None:
    try:
        option = json.loads(params.get(name) or "")
    except ValueError:
        return None
    return option if isinstance(option, dict) else None


def _top_page(response: str, rows: list[dict[str, Any]], page_no: int, size: int, total: int) -> dict[str, Any]:
    data = {"page_no": page_no, "page_size": size, "total_count": total, "results": {"result": rows}}
    return {response: {"result": {"data": data, "result_code": 200, "result_msg": "ok", "biz_error_code": 0}}}


class FakePdd(FakeNetwork):
    network = "pdd"
    key_fields = ("order_sn",)
    TYPE = "pdd.ddk.order.list.increment.get"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.churn = 0  # how many more "updates while paging" to simulate
        self.goods: list[dict[str, Any]] = []  # goods_list rows served by the goods search
        self.authorized: set[str] = set()  # custom_parameters uids registered (备案) on the pid
        self.offered: set[str] = set()  # uids a registration page was generated for
        self.auto_authorize = False  # the demo: a buyer offered the page registers at once

    def stamp(self, row: dict[str, Any], moment: datetime) -> None:
        row["order_modify_at"] = int(moment.timestamp())

    REGISTRATION_PAGE = "/duo_transfer_channel.html"

    def page(self, url: Any) -> str | None:
        """Pinduoduo's 备案 page: opening it registers the pid + uid pair (the buyer taps 授权)."""
        if url.path != self.REGISTRATION_PAGE:
            return None
        uid = dict(parse_qsl(url.query)).get("uid", "")
        with self.lock:
            if uid in self.offered:
                self.authorized.add(uid)
        done = uid in self.authorized
        title = "授权成功，请返回集市领券" if done else "链接无效"
        return _fake_page("拼多多备案", f'<h1 style="font-size:20px">{title}</h1>')

    @staticmethod
    def error(code: int, msg: str, sub_msg: str = "") -> dict[str, Any]:
        return {"error_response": {"error_code": code, "error_msg": msg, "sub_code": str(code), "sub_msg": sub_msg}}

    def handle(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("client_id") != self.app_key:
            return self.refuse("client_id", self.error(10016, "client_id不存在"))
        if not signature_matches(pdd_sign(params, self.secret), params.get("sign", "")):
            return self.refuse("sign", self.error(10019, "签名错误"))
        stamp = _int(params.get("timestamp"), 0)
        if not self.timestamp_ok(datetime.fromtimestamp(stamp, BEIJING) if stamp else None):
            return self.refuse("timestamp", self.error(10020, "timestamp已过期"))
        if params.get("type") == PDD_DETAIL_TYPE:
            return self.handle_detail(params)
        if params.get("type") in PDD_API:
            return PDD_API[params["type"]](self, params)
        if params.get("type") != self.TYPE:
            return self.refuse("type", self.error(10002, "type不存在"))
        start_s, end_s = _int(params.get("start_update_time"), 0), _int(params.get("end_update_time"), 0)
        if not start_s or end_s <= start_s:
            return self.refuse("window", self.error(50001, "业务参数错误", "时间范围错误"))
        start, end = datetime.fromtimestamp(start_s, BEIJING), datetime.fromtimestamp(end_s, BEIJING)
        if end - start > timedelta(hours=24):
            return self.refuse("window", self.error(50001, "业务参数错误", "时间跨度不能超过24小时"))
        if start < self.clock() - timedelta(days=90):
            return self.refuse("window", self.error(50001, "业务参数错误", "只能查询最近90天"))
        size = _int(params.get("page_size"), 100)
        page = _int(params.get("page"), 1)
        if not 10 <= size <= 100 or page < 1:
            return self.refuse("page_size", self.error(50001, "业务参数错误", "page_size"))
        keys = self.window_keys(start, end)
        chosen = keys[(page - 1) * size : page * size]
        body: dict[str, Any] = {"order_list": [dict(self.rows[k]) for k in chosen]}
        if params.get("return_count", "true") != "false":
            body["total_count"] = len(keys)
        body["request_id"] = f"fake{self.calls}"
        if self.churn > 0 and keys:
            # The earliest order of the window is updated while the client pages: it moves out of
            # this window to "now", and every later order slides one place forwards.
            self.churn -= 1
            moved = keys[0]
            moment = max(self.clock(), end) + timedelta(seconds=1)
            self.rows[moved]["order_modify_at"] = int(moment.timestamp())
            self.updated[moved] = moment
        return {"order_list_get_response": body}

    def handle_detail(self, params: dict[str, str]) -> dict[str, Any]:
        """``pdd.ddk.order.detail.get``: the order as the increment report has it, with ``return_status``."""
        row = self.rows.get((params.get("order_sn", ""),))
        if row is None:
            return self.refuse("order_sn", self.error(50001, "业务参数错误", "订单不存在"))
        return {"order_detail_response": {"return_status": 0, **row, "request_id": f"fake{self.calls}"}}


PDD_DETAIL_TYPE = "pdd.ddk.order.detail.get"


class FakeJd(FakeNetwork):
    network = "jd"
    key_fields = ("orderId", "id")
    METHOD = "jd.union.open.order.row.query"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.goods: list[dict[str, Any]] = []  # data rows served by the goods query

    def stamp(self, row: dict[str, Any], moment: datetime) -> None:
        row["modifyTime"] = format_beijing(moment)

    @staticmethod
    def error(code: str, desc: str) -> dict[str, Any]:
        return {"error_response": {"code": code, "zh_desc": desc, "en_desc": desc}}

    @staticmethod
    def result(code: int, message: str, data: list[dict[str, Any]] | None = None, more: bool = False) -> dict[str, Any]:
        inner = {"code": code, "message": message, "data": data or [], "hasMore": more}
        return {"jd_union_open_order_row_query_responce": {"code": "0", "queryResult": json.dumps(inner)}}

    def handle(self, params: dict[str, str]) -> dict[str, Any]:
        if params.get("app_key") != self.app_key:
            return self.refuse("app_key", self.error("19", "无效的app_key"))
        if not signature_matches(jd_sign(params, self.secret), params.get("sign", "")):
            return self.refuse("sign", self.error("20", "签名错误"))
        if not self.timestamp_ok(_beijing(params.get("timestamp"))):
            return self.refuse("timestamp", self.error("21", "时间戳错误"))
        if params.get("method") in JD_API:
            return JD_API[params["method"]](self, params)
        if params.get("method") != self.METHOD:
            return self.refuse("method", self.error("22", "方法不存在"))
        try:
            req = json.loads(params.get("360buy_param_json") or "{}")["orderReq"]
        except (ValueError, KeyError, TypeError):
            return self.refuse("params", self.result(400, "orderReq 缺失"))
        start, end = _beijing(req.get("startTime")), _beijing(req.get("endTime"))
        if start is None or end is None or end <= start or end - start > timedelta(hours=1):
            return self.refuse("window", self.result(400, "时间跨度不能超过1小时"))
        size, page = _int(req.get("pageSize"), 20), _int(req.get("pageIndex"), 1)
        if not 1 <= size <= 200 or page < 1:
            return self.refuse("page_size", self.result(400, "pageSize 超出范围"))
        keys = self.window_keys(start, end)
        chosen = keys[(page - 1) * size : page * size]
        return self.result(200, "success", [dict(self.rows[k]) for k in chosen], more=page * size < len(keys))


FAKES: dict[str, type[FakeNetwork]] = {"taobao": FakeTaobao, "pdd": FakePdd, "jd": FakeJd}


# --- generated orders ----------------------------------------------------------------------


def taobao_row(
    n: int, relation_id: str, tk_status: int = 12, fee: int = 1000, service: int = 0, **extra: Any
) -> dict[str, Any]:
    """A ``publisher_order_dto`` (money in yuan text as the network sends it); ``fee`` in fen."""
    row = {
        "trade_parent_id": f"{2_000_000_000_000 + n}",
        "trade_id": f"{2_000_000_000_000 + n}1",
        "item_id": f"{600_000_000_000 + n % 50}",
        "item_title": f"淘宝好物 {n % 50}",
        "alipay_total_price": _yuan(fee * 20),
        "pub_share_pre_fee": _yuan(fee),
        "pub_share_fee": _yuan(fee) if tk_status == 3 else "0.00",
        "alimama_share_fee": _yuan(service),
        "tk_status": tk_status,
        "refund_tag": 0,
        "relation_id": relation_id,
        "order_type": "淘宝",
        "tk_create_time": "2026-11-20 10:00:00",
        "tk_earning_time": "2026-11-28 10:00:00" if tk_status == 3 else "",
    }
    row.update(extra)
    return row


def pdd_row(n: int, uid: str, order_status: int = 0, fee: int = 1000, **extra: Any) -> dict[str, Any]:
    row = {
        "order_sn": f"261120-{500_000_000 + n}",
        "goods_id": 800_000_000 + n % 50,
        "goods_name": f"拼多多好物 {n % 50}",
        "order_amount": fee * 20,
        "promotion_amount": fee,
        "order_status": order_status,
        "order_status_desc": "",
        "custom_parameters": json.dumps({"uid": uid}) if uid else "",
        "order_create_time": 1_795_000_000,
        "order_settle_time": 1_795_600_000 if order_status == 5 else 0,
    }
    row.update(extra)
    return row


def jd_row(n: int, sub_union_id: str, valid_code: int = 16, fee: int = 1000, **extra: Any) -> dict[str, Any]:
    settled = valid_code == 17 and extra.get("payMonth", 0)
    row = {
        "id": f"{900_000_000 + n}",
        "orderId": 300_000_000_000 + n,
        "parentId": 0,
        "skuId": 100_000_000 + n % 50,
        "skuName": f"京东好物 {n % 50}",
        "skuNum": 1,
        "validCode": valid_code,
        "estimateCosPrice": fee * 20 / 100,
        "estimateFee": fee / 100,
        "actualFee": fee / 100 if settled else 0,
        "payMonth": 0,
        "subUnionId": sub_union_id,
        "positionId": 0,
        "orderTime": "2026-11-20 10:00:00",
        "finishTime": "2026-11-25 10:00:00" if valid_code == 17 else "",
    }
    row.update(extra)
    return row


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


ROW_MAKERS: dict[str, Callable[..., dict[str, Any]]] = {"taobao": taobao_row, "pdd": pdd_row, "jd": jd_row}
PAID_CODE = {"taobao": 12, "pdd": 0, "jd": 16}


def generate(
    fake: FakeNetwork, count: int, trackers: list[str], start: datetime, end: datetime, *, seed: int = 7, first: int = 0
) -> list[dict[str, Any]]:
    """``count`` paid orders spread evenly over [start, end), each tracked by one of ``trackers``."""
    rng = random.Random(seed)
    span = (end - start).total_seconds()
    made = []
    maker = ROW_MAKERS[fake.network]
    for i in range(count):
        n = first + i
        moment = start + timedelta(seconds=int(span * i / max(count, 1)))
        row = maker(
            n, trackers[n % len(trackers)] if trackers else "", PAID_CODE[fake.network], fee=rng.randint(50, 5000)
        )
        made.append(fake.put(row, moment))
    return made


def taobao_refund_row(
    n: int, refund_status: int = 2, commission: int = 500, refund_time: str = "2026-11-26 10:00:00", **extra: Any
) -> dict[str, Any]:
    """A ``taobao.tbk.relation.refund`` result row for the order ``taobao_row(n, …)`` (``commission`` in fen)."""
    row = {
        "tb_trade_parent_id": 2_000_000_000_000 + n,
        "tb_trade_id": int(f"{2_000_000_000_000 + n}1"),
        "relation_id": 0,
        "refund_status": refund_status,
        "refund_type": 1,
        "refund_fee": _yuan(commission * 20),
        "tk_commission_fee_refund_pub": _yuan(commission),
        "tk_subsidy_fee_refund_pub": "0.00",
        "tk_refund_time": refund_time,
        "tk_refund_suit_time": refund_time if refund_status == 2 else "",
        "tb_auction_title": f"淘宝好物 {n % 50}",
    }
    row.update(extra)
    return row


def taobao_penalty_row(n: int, punish_status: str = "0", created: str = "2026-11-20 10:00:00") -> dict[str, Any]:
    """A ``taobao.tbk.dg.punish.order.get`` result row for the order ``taobao_row(n, …)``."""
    return {
        "tb_trade_id": int(f"{2_000_000_000_000 + n}1"),
        "relation_id": 0,
        "punish_status": punish_status,
        "violation_type": "订单虚假交易",
        "tk_trade_create_time": created,
        "settle_month": 202611,
    }


# --- goods search and buyer registration -----------------------------------------------------
# The handlers below answer after the network's signature, app key and timestamp checks above.


def _matches(keyword: str, *texts: Any) -> bool:
    word = keyword.strip().lower()
    return not word or any(word in str(t or "").lower() for t in texts)


def _page(rows: list[dict[str, Any]], page: int, size: int) -> list[dict[str, Any]]:
    return [dict(r) for r in rows[(page - 1) * size : page * size]]


def _taobao_goods(fake: FakeTaobao, params: dict[str, str]) -> dict[str, Any]:
    if not params.get("adzone_id", "").isdigit():
        return fake.refuse("adzone_id", fake.error(15, "Remote service error", "isv.invalid-parameter", "adzone_id"))
    if not params.get("q") and not params.get("cat"):
        return fake.refuse("q", fake.error(15, "Remote service error", "isv.invalid-parameter", "q 或 cat 必填"))
    size, page = _int(params.get("page_size"), 20), _int(params.get("page_no"), 1)
    if not 1 <= size <= 100 or page < 1:
        return fake.refuse("page_size", fake.error(15, "Remote service error", "isv.invalid-parameter", "page_size"))
    coupon_only = params.get("has_coupon") == "true"
    found = [
        g
        for g in fake.goods
        if _matches(params.get("q", ""), g.get("title"), g.get("category_name"))
        and (not coupon_only or g.get("coupon_amount"))
    ]
    data = {"result_list": {"map_data": _page(found, page, size)}, "total_results": len(found)}
    return {"tbk_dg_material_optional_response": {**data, "request_id": f"fake{fake.calls}"}}


def _taobao_token(fake: FakeTaobao, params: dict[str, str]) -> dict[str, Any]:
    """``taobao.top.auth.token.create``: a code from the authorisation page, once, for its session."""
    code = params.get("code", "")  # (handlers run under the fake's lock)
    session = fake.codes.get(code) if code not in fake.used_codes else None
    if session is not None:
        fake.used_codes.add(code)
    if session is None:
        return fake.refuse("code", fake.error(15, "Remote service error", "isv.invalid-parameter", "code 无效或已使用"))
    now_ms = int(datetime.now().timestamp() * 1000)
    token = {
        "access_token": session,
        "token_type": "Bearer",
        "expire_time": now_ms + 86_400_000,
        "expires_in": 86_400,
        "refresh_token": f"refresh{session}",
        "taobao_user_id": session[-8:],
        "taobao_user_nick": f"tb{session[-6:]}",
    }
    result = json.dumps(token, ensure_ascii=False)
    return {"top_auth_token_create_response": {"token_result": result, "request_id": f"fake{fake.calls}"}}


def _taobao_register(fake: FakeTaobao, params: dict[str, str]) -> dict[str, Any]:
    session = params.get("session", "")
    if not session:
        return fake.refuse("session", fake.error(26, "Missing session", "session-is-blank", "session 缺失"))
    if session in fake.expired_sessions:
        return fake.refuse("session", fake.error(27, "Invalid session", "invalid-sessionkey", "SessionKey 已过期"))
    if fake.failing_with is not None:
        return fake.refuse("failing", {"error_response": dict(fake.failing_with)})
    if params.get("inviter_code") != fake.inviter_code:
        return fake.refuse(
            "inviter_code", fake.error(15, "Remote service error", "isv.invalid-parameter", "邀请码无效")
        )
    if params.get("info_type", "1") != "1":
        return fake.refuse("info_type", fake.error(15, "Remote service error", "isv.invalid-parameter", "info_type"))
    again = session in fake.relations
    relation_id = fake.relations.setdefault(session, str(2_600_000_000 + len(fake.relations) + 1))
    data = {
        "relation_id": int(relation_id),
        "account_name": f"渠道{relation_id[-4:]}",
        "desc": "重复绑定渠道" if again else "绑定成功",
    }
    return {"tbk_sc_publisher_info_save_response": {"data": data, "request_id": f"fake{fake.calls}"}}


TAOBAO_API: dict[str, Callable[[FakeTaobao, dict[str, str]], dict[str, Any]]] = {
    "taobao.tbk.dg.material.optional": _taobao_goods,
    "taobao.tbk.sc.publisher.info.save": _taobao_register,
    "taobao.top.auth.token.create": _taobao_token,
}


def _pdd_uid(fake: FakePdd, params: dict[str, str]) -> str | None:
    text = params.get("custom_parameters", "")
    if not text or len(text.encode()) > 64:
        return None
    try:
        loaded = json.loads(text)
    except ValueError:
        return None
    uid = loaded.get("uid") if isinstance(loaded, dict) else None
    return str(uid) if uid else None


def _pdd_goods(fake: FakePdd, params: dict[str, str]) -> dict[str, Any]:
    size, page = _int(params.get("page_size"), 100), _int(params.get("page"), 1)
    if not 10 <= size <= 100 or page < 1:
        return fake.refuse("page_size", fake.error(50001, "业务参数错误", "page_size"))
    coupon_only = params.get("with_coupon") == "true"
    found = [
        g
        for g in fake.goods
        if _matches(params.get("keyword", ""), g.get("goods_name"), g.get("category_name"))
        and (not coupon_only or g.get("coupon_discount"))
    ]
    body = {"goods_list": _page(found, page, size), "total_count": len(found), "list_id": "fake-list"}
    return {"goods_search_response": {**body, "search_id": f"fake{fake.calls}", "request_id": f"fake{fake.calls}"}}


def _pdd_prom_url(fake: FakePdd, params: dict[str, str]) -> dict[str, Any]:
    if params.get("channel_type") != "10":
        return fake.refuse("channel_type", fake.error(50001, "业务参数错误", "channel_type"))
    uid = _pdd_uid(fake, params)
    if uid is None:
        return fake.refuse("custom_parameters", fake.error(50001, "业务参数错误", "custom_parameters"))
    try:
        pids = json.loads(params.get("p_id_list") or "[]")
    except ValueError:
        pids = []
    if not pids:
        return fake.refuse("p_id_list", fake.error(50001, "业务参数错误", "p_id_list"))
    fake.offered.add(uid)
    if fake.auto_authorize:
        fake.authorized.add(uid)
    base = fake.url.rsplit("/", 1)[0]  # the fake's own host: the demo's buyers open it, nothing outside
    url = f"{base}{fake.REGISTRATION_PAGE}?resourceType=10&pid={pids[0]}&uid={uid}"
    item = {"url": url, "mobile_url": url, "short_url": url, "mobile_short_url": url}
    return {"rp_promotion_url_generate_response": {"url_list": [item], "request_id": f"fake{fake.calls}"}}


def _pdd_authority(fake: FakePdd, params: dict[str, str]) -> dict[str, Any]:
    uid = _pdd_uid(fake, params)
    if uid is None or not params.get("pid"):
        return fake.refuse("custom_parameters", fake.error(50001, "业务参数错误", "custom_parameters / pid"))
    bind = 1 if uid in fake.authorized else 0
    return {"authority_query_response": {"bind": bind, "request_id": f"fake{fake.calls}"}}


PDD_API: dict[str, Callable[[FakePdd, dict[str, str]], dict[str, Any]]] = {
    "pdd.ddk.goods.search": _pdd_goods,
    "pdd.ddk.rp.prom.url.generate": _pdd_prom_url,
    "pdd.ddk.member.authority.query": _pdd_authority,
}


def _jd_goods(fake: FakeJd, params: dict[str, str]) -> dict[str, Any]:
    try:
        req = json.loads(params.get("360buy_param_json") or "{}")["goodsReqDTO"]
    except (ValueError, KeyError, TypeError):
        return fake.refuse("params", _jd_goods_result(400, "goodsReqDTO 缺失"))
    size, page = _int(req.get("pageSize"), 20), _int(req.get("pageIndex"), 1)
    if not 1 <= size <= 30 or page < 1:
        return fake.refuse("page_size", _jd_goods_result(400, "pageSize 超出范围"))
    coupon_only = str(req.get("isCoupon")) == "1"
    found = [
        g
        for g in fake.goods
        if _matches(str(req.get("keyword") or ""), g.get("skuName"), (g.get("categoryInfo") or {}).get("cid1Name"))
        and (not coupon_only or (g.get("couponInfo") or {}).get("couponList"))
    ]
    return _jd_goods_result(200, "success", _page(found, page, size), len(found))


def _jd_goods_result(
    code: int, message: str, data: list[dict[str, Any]] | None = None, total: int = 0
) -> dict[str, Any]:
    inner = {"code": code, "message": message, "data": data or [], "totalCount": total}
    return {"jd_union_open_goods_query_responce": {"code": "0", "queryResult": json.dumps(inner, ensure_ascii=False)}}


JD_API: dict[str, Callable[[FakeJd, dict[str, str]], dict[str, Any]]] = {
    "jd.union.open.goods.query": _jd_goods,
}


# --- generated goods -------------------------------------------------------------------------

GOODS_WORDS = [
    ("蓝牙耳机", "数码"),
    ("保温杯", "日用"),
    ("四件套", "家纺"),
    ("卫衣", "服饰"),
    ("积木", "玩具"),
    ("护手霜", "美妆"),
    ("抽纸", "日用"),
    ("大米", "粮油"),
]


def goods_rows(
    network: str, count: int, *, seed: int = 11, first: int = 0, coupon_end: datetime | None = None
) -> list[dict[str, Any]]:
    """``count`` coupon goods in ``network``'s own field names (prices in yuan text for Taobao and
    JD, fen for Pinduoduo); picture addresses are data, never fetched."""
    rng = random.Random(seed)
    end = coupon_end or (_now() + timedelta(days=30))
    rows = []
    for i in range(count):
        n = first + i
        word, category = GOODS_WORDS[n % len(GOODS_WORDS)]
        title = f"{word} 优选 {n}"
        price = rng.randint(20, 400) * 100 - 10  # fen
        coupon = min(price // 2, rng.choice([300, 500, 1000, 2000]))
        picture = f"https://img.example.com/{network}/{n}.jpg"
        if network == "taobao":
            rows.append(
                {
                    "item_id": f"{650_000_000_000 + n}",
                    "title": title,
                    "category_name": category,
                    "shop_title": f"{category}好店",
                    "pict_url": picture,
                    "small_images": {"string": [picture]},
                    "zk_final_price": _yuan(price),
                    "coupon_amount": str(coupon // 100),
                    "coupon_start_fee": _yuan(coupon * 2),
                    "coupon_start_time": (end - timedelta(days=60)).strftime("%Y-%m-%d"),
                    "coupon_end_time": end.strftime("%Y-%m-%d"),
                    "coupon_remain_count": rng.randint(10, 900),
                    "commission_rate": str(rng.randint(5, 30) * 100),
                    "volume": rng.randint(0, 20000),
                    "item_url": f"https://item.taobao.com/item.htm?id={650_000_000_000 + n}",
                    "coupon_share_url": f"//uland.taobao.com/coupon/edetail?e=fake{n}",
                }
            )
        elif network == "pdd":
            rows.append(
                {
                    "goods_sign": f"fake-pdd-{n}",
                    "goods_id": 810_000_000 + n,
                    "goods_name": title,
                    "category_name": category,
                    "mall_name": f"{category}工厂店",
                    "goods_image_url": picture,
                    "goods_thumbnail_url": picture,
                    "min_group_price": price,
                    "coupon_discount": coupon,
                    "coupon_min_order_amount": coupon * 2,
                    "coupon_start_time": int((end - timedelta(days=60)).timestamp()),
                    "coupon_end_time": int(end.timestamp()),
                    "coupon_remain_quantity": rng.randint(10, 900),
                    "promotion_rate": rng.randint(5, 30) * 10,
                    "sales_tip": f"{rng.randint(1, 9)}万+",
                    "has_coupon": True,
                }
            )
        else:
            rows.append(
                {
                    "skuId": 110_000_000 + n,
                    "skuName": title,
                    "categoryInfo": {"cid1Name": category},
                    "shopInfo": {"shopName": f"{category}京东店"},
                    "imageInfo": {"imageList": [{"url": picture}]},
                    "priceInfo": {"price": price / 100},
                    "couponInfo": {
                        "couponList": [
                            {
                                "discount": coupon / 100,
                                "quota": coupon * 2 / 100,
                                "useStartTime": int((end - timedelta(days=60)).timestamp()) * 1000,
                                "useEndTime": int(end.timestamp()) * 1000,
                                "link": f"https://coupon.m.jd.com/coupons/show.action?key=fake{n}",
                            }
                        ]
                    },
                    "commissionInfo": {"commissionShare": rng.randint(2, 20)},
                    "inOrderCount30Days": rng.randint(0, 9000),
                    "materialUrl": f"item.jd.com/{110_000_000 + n}.html",
                }
            )
    return rows
