"""Each network's signature against its published vector; credentials encrypted at rest."""

from __future__ import annotations

import pytest

from jishi.rebate.credentials import decrypt_secret, encrypt_secret
from jishi.rebate.signing import canonical, jd_sign, pdd_sign, top_sign

# TOP's own worked example (open.taobao.com docId=101617): secret "helloworld".
TOP_EXAMPLE = {
    "method": "taobao.item.seller.get",
    "app_key": "12345678",
    "session": "test",
    "timestamp": "2016-01-01 12:00:00",
    "format": "json",
    "v": "2.0",
    "sign_method": "md5",
    "fields": "num_iid,title,nick,price,num",
    "num_iid": "11223344",
}

# Pinduoduo open platform's example (the SDKs' test): client_secret "testSecret".
PDD_EXAMPLE = {
    "type": "pdd.order.number.list.get",
    "client_id": "1",
    "data_type": "XML",
    "timestamp": "1480411125",
    "order_status": "1",
    "page": "1",
    "page_size": "10",
    "access_token": "asd78172s8ds9a921j9qqwda12312w1w21211",
}
PDD_CANONICAL = (
    "access_tokenasd78172s8ds9a921j9qqwda12312w1w21211client_id1data_typeXMLorder_status1"
    "page1page_size10timestamp1480411125typepdd.order.number.list.get"
)

# JD open platform's example: appSecret "yourappSecret", business parameters in 360buy_param_json.
JD_EXAMPLE = {
    "360buy_param_json": (
        '{"end_date":null,"optional_fields":null,"order_state":"WAIT_SELLER_STOCK_OUT",'
        '"page":"1","page_size":"200","start_date":null}'
    ),
    "access_token": "yourtoken",
    "app_key": "yourappkey",
    "method": "jingdong.pop.order.search",
    "timestamp": "2021-05-07 09:20:39.683+0800",
    "v": "2.0",
}


def test_top_md5_matches_published_vector() -> None:
    assert top_sign(TOP_EXAMPLE, "helloworld", "md5") == "66987CB115214E59E6EC978214934FB8"


def test_top_hmac_is_hmac_md5_of_the_concatenation() -> None:
    # RFC 2202 test case 1: key 0x0b × 16, data "Hi There" (= "Hi" + " There" concatenated).
    assert top_sign({"Hi": " There"}, "\x0b" * 16, "hmac") == "9294727A3638BB1C13F48EF8158BFC9D"


def test_top_refuses_unknown_method() -> None:
    with pytest.raises(ValueError, match="sha1"):
        top_sign(TOP_EXAMPLE, "helloworld", "sha1")


def test_pdd_matches_published_vector() -> None:
    assert canonical(PDD_EXAMPLE) == PDD_CANONICAL
    assert pdd_sign(PDD_EXAMPLE, "testSecret") == "E4DE3ED21002510DED352819E7AE6775"


def test_jd_matches_published_vector() -> None:
    assert jd_sign(JD_EXAMPLE, "yourappSecret") == "D70825340F4084360B9362B60DFD7930"


def test_sign_parameter_itself_is_left_out() -> None:
    assert pdd_sign({**PDD_EXAMPLE, "sign": "WHATEVER"}, "testSecret") == "E4DE3ED21002510DED352819E7AE6775"


def test_secret_is_encrypted_and_round_trips() -> None:
    token = encrypt_secret("s3cret-value")
    assert "s3cret-value" not in token
    assert decrypt_secret(token) == "s3cret-value"


def test_secret_under_another_key_cannot_be_read(settings: object) -> None:
    token = encrypt_secret("s3cret-value")
    settings.JISHI = {**settings.JISHI, "REBATE_CREDENTIAL_KEY": "another key"}  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="cannot be decrypted") as caught:
        decrypt_secret(token)
    assert "s3cret-value" not in str(caught.value)
