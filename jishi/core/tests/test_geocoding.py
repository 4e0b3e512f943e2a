"""Geocoders: the AMap adapter against the local AMap fake (key, sig, answers, failures), the console one."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from jishi.core import geocoding
from jishi.core.fake_amap import DAILY_QUERY_OVER_LIMIT, FakeAmapServer
from jishi.core.geocoding import AddressQuery, AmapGeocoder, ConsoleGeocoder

KEY, PRIVATE = "test-key", "test-private-key"
WENSAN = AddressQuery("浙江省", "杭州市", "西湖区", "文三路 100 号")


@pytest.fixture
def amap() -> Iterator[FakeAmapServer]:
    server = FakeAmapServer(KEY, PRIVATE).start()
    yield server
    server.stop()


def test_sig_is_md5_of_sorted_parameters_with_the_private_key_appended() -> None:
    params = {"key": "k1", "address": "北京市朝阳区阜通东大街6号", "output": "JSON"}
    expected = hashlib.md5(
        b"address=\xe5\x8c\x97\xe4\xba\xac\xe5\xb8\x82" + "朝阳区阜通东大街6号&key=k1&output=JSONpk".encode()
    )
    assert geocoding.amap_sign(params, "pk") == expected.hexdigest()


def test_a_registered_place_answers_its_exact_point(amap: FakeAmapServer) -> None:
    amap.places[WENSAN.text] = (30.2833, 120.1234)
    point = AmapGeocoder(KEY, PRIVATE, amap.url).locate(WENSAN)
    assert point is not None
    assert (point.latitude, point.longitude) == (30.2833, 120.1234)  # "lng,lat" read the right way round
    assert point.level == "门牌号"
    [sent] = amap.requests
    assert sent["address"] == "浙江省杭州市西湖区文三路100号"
    assert sent["city"] == "杭州市"
    assert sent["sig"] == geocoding.amap_sign({k: v for k, v in sent.items() if k != "sig"}, PRIVATE)


def test_a_street_address_lands_near_its_district_and_the_same_each_time(amap: FakeAmapServer) -> None:
    geocoder = AmapGeocoder(KEY, PRIVATE, amap.url)
    first, again = geocoder.locate(WENSAN), geocoder.locate(WENSAN)
    assert first is not None
    assert first == again
    from jishi.core import gazetteer, geo

    centre = gazetteer.district_centre("浙江省", "杭州市", "西湖区")
    assert centre is not None
    assert geo.distance_m(first.latitude, first.longitude, *centre) <= 1500


def test_an_unknown_address_is_a_422_address_not_located(amap: FakeAmapServer) -> None:
    geocoding.use_geocoder(AmapGeocoder(KEY, PRIVATE, amap.url))
    try:
        with pytest.raises(geocoding.AddressNotLocated) as caught:
            geocoding.geocode(AddressQuery("火星", "奥林帕斯", "山区", "1 号"))
    finally:
        geocoding.use_geocoder(None)
    assert caught.value.status == 422
    assert caught.value.code == "address_not_located"


@pytest.mark.parametrize(
    ("key", "private_key"),
    [("wrong-key", PRIVATE), (KEY, "wrong-private-key"), (KEY, "")],
    ids=["INVALID_USER_KEY", "INVALID_USER_SIGNATURE", "sig missing"],
)
def test_a_refused_key_or_signature_is_a_502(amap: FakeAmapServer, key: str, private_key: str) -> None:
    with pytest.raises(geocoding.GeocoderUnavailable) as caught:
        AmapGeocoder(key, private_key, amap.url).locate(WENSAN)
    assert caught.value.status == 502
    assert caught.value.code == "geocoder_unavailable"


def test_quota_exceeded_is_a_502(amap: FakeAmapServer) -> None:
    amap.refuse = DAILY_QUERY_OVER_LIMIT
    with pytest.raises(geocoding.GeocoderUnavailable):
        AmapGeocoder(KEY, PRIVATE, amap.url).locate(WENSAN)


def test_a_gateway_error_is_a_502(amap: FakeAmapServer) -> None:
    amap.http_status = 502
    with pytest.raises(geocoding.GeocoderUnavailable):
        AmapGeocoder(KEY, PRIVATE, amap.url).locate(WENSAN)


def test_an_unreachable_service_is_a_502() -> None:
    server = FakeAmapServer(KEY).start()
    url = server.url
    server.stop()
    with pytest.raises(geocoding.GeocoderUnavailable):
        AmapGeocoder(KEY, "", url, timeout=2).locate(WENSAN)


def test_no_key_configured_is_a_502() -> None:
    with pytest.raises(geocoding.GeocoderUnavailable) as caught:
        AmapGeocoder("", "")
    assert caught.value.code == "geocoder_not_configured"


@pytest.mark.parametrize("location", ["", "120.1", "abc,def", "200.0,30.0", "120.1,95.0"])
def test_a_malformed_location_is_not_a_point(location: str) -> None:
    assert geocoding.parse_location(location) is None


def test_console_geocoder_answers_the_district_centre() -> None:
    point = ConsoleGeocoder().locate(WENSAN)
    assert point is not None
    assert (round(point.latitude, 4), round(point.longitude, 4)) == (30.2595, 120.1302)
    assert point.level == "区县"


def test_console_geocoder_finds_the_district_in_free_text() -> None:
    point = ConsoleGeocoder().locate(AddressQuery("", "", "", "上海市浦东新区世纪大道 1 号"))
    assert point is not None
    assert 31.0 < point.latitude < 31.4
    assert 121.4 < point.longitude < 121.8


def test_console_geocoder_knows_no_unknown_place() -> None:
    assert ConsoleGeocoder().locate(AddressQuery("火星", "奥林帕斯", "山区", "1 号")) is None


def test_the_configured_backend_is_console_by_default(settings: pytest.FixtureRequest) -> None:
    assert isinstance(geocoding.get_geocoder(), ConsoleGeocoder)
    settings.JISHI = {**settings.JISHI, "GEOCODER": "amap", "AMAP_KEY": KEY, "AMAP_URL": "http://127.0.0.1:9"}  # type: ignore[attr-defined]
    configured = geocoding.get_geocoder()
    assert isinstance(configured, AmapGeocoder)
    assert configured.base_url == "http://127.0.0.1:9"


def test_the_demo_runs_an_amap_fake_and_points_the_adapter_at_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import subprocess
    import time

    from jishi.demo.management.commands.demo import amap_fake_command

    for name in ("JISHI_GEOCODER", "JISHI_AMAP_URL", "JISHI_AMAP_KEY", "JISHI_AMAP_PRIVATE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # the command writes the children's environment
    [command] = amap_fake_command("127.0.0.1").values()
    assert os.environ["JISHI_GEOCODER"] == "amap"
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ)
    try:
        assert child.stdout is not None
        assert "fake AMap geocoder on" in child.stdout.readline().decode()
        geocoder = AmapGeocoder(
            os.environ["JISHI_AMAP_KEY"], os.environ["JISHI_AMAP_PRIVATE_KEY"], os.environ["JISHI_AMAP_URL"]
        )
        started = time.monotonic()
        point = geocoder.locate(WENSAN)
        assert point is not None
        assert point.level == "门牌号"
        assert time.monotonic() - started < 5
    finally:
        child.terminate()
        child.wait(timeout=10)
