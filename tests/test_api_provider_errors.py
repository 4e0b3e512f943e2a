"""A payment provider that cannot be reached is a 502 the client can act on, never a 500."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from conftest import Api
from jishi.orders import services as orders
from jishi.payments.tests.rsa_keys import private_pem, public_pem, rsa_key
from jishi.testing.factories import SkuFactory
from jishi.testing.shop import shopper

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def wechatpay_down(settings: Any) -> None:
    """WeChat Pay configured as in production, its API at a port nothing listens on."""
    settings.JISHI_PAYMENTS = {
        **settings.JISHI_PAYMENTS,
        "HTTP_TIMEOUT_SECONDS": 2,
        "WECHATPAY": {
            "MCH_ID": "1900000109",
            "APP_ID": "wxd678efh567hg6787",
            "MCH_PRIVATE_KEY": private_pem(rsa_key()),
            "MCH_CERT_SERIAL_NO": "444F4864EA9B34415A1B2C3D4E5F60718293A4B5",
            "APIV3_KEY": "a12d3924fd499edac8a5efc2b4c7d1e9",
            "PUBLIC_KEY": public_pem(rsa_key()),
            "PUBLIC_KEY_ID": "PUB_KEY_ID_0119000001092024060100000000000001",
            "BASE_URL": f"http://127.0.0.1:{_closed_port()}",
        },
    }


def test_paying_while_the_provider_is_down_answers_502_provider_unavailable(wechatpay_down: None) -> None:
    buyer = shopper()
    order = orders.place_order(buyer.user, [(SkuFactory(stock=5).pk, 1)], buyer.address.pk)

    response = Api(buyer.token).post(f"orders/{order.pk}/pay", {"method": "wechatpay"})

    assert response.status_code == 502
    assert response.json() == {
        "error": {"code": "provider_unavailable", "message": "支付服务暂时无法连接，请稍后再试", "fields": {}}
    }


@pytest.mark.parametrize(
    ("path", "method"),
    [("/api/v1/orders/{order_id}/pay", "post"), ("/api/v1/admin/after-sales/{case_id}/approve", "post")],
)
def test_operations_that_call_a_provider_document_the_502(path: str, method: str) -> None:
    from jishi.api import api

    operation = api.get_openapi_schema()["paths"][path][method]

    assert operation["responses"][502]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
