"""A web buyer authorises Taobao (OAuth 2.0 server-side flow) to take a Taobao coupon: 领券购买 →
the network's authorisation page (the fake's, speaking the same parameters) → back with a one-use
code and Jishi's signed state → ``taobao.top.auth.token.create`` → the channel registration → the
buyer's tracked link. Refused, forged, replayed, denied and unreachable answers never link anyone."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from jishi.rebate import taobao_oauth
from jishi.rebate.adapters import NetworkError
from jishi.rebate.models import LinkRegistration, Network, RegistrationState, TrackedLink
from jishi.testing.factories import UserFactory

from .test_registration import goods_id, taobao_source

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def web_source(fake: Any, **extra: Any) -> Any:
    return taobao_source(fake, oauth_url=fake.authorize_url, **extra)


def authorisation_page(client: Client, item: int) -> tuple[str, dict[str, str]]:
    """POST 领券购买; returns the fake's page HTML and the query Jishi sent the buyer there with."""
    response = client.post(f"/rebate/g/{item}/take/")
    assert response.status_code == 302
    location = response["Location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    return requests.get(location, timeout=5).text, query


def button(page: str, name: str) -> str:
    """The path + query of the fake page's 授权 (grant) or 取消 (deny) link, as the browser follows it."""
    found = re.search(rf'id="{name}" href="([^"]+)"', page)
    assert found is not None, page
    parts = urlsplit(html.unescape(found.group(1)))
    return f"{parts.path}?{parts.query}"


def test_a_web_buyer_authorises_taobao_and_gets_a_tracked_link(fake_taobao: Any) -> None:
    web_source(fake_taobao)
    item = goods_id(Network.TAOBAO)
    buyer = UserFactory()
    client = signed_in(buyer)
    page, query = authorisation_page(client, item)
    assert query["client_id"] == fake_taobao.app_key and query["response_type"] == "code"
    assert query["redirect_uri"] == "http://testserver/rebate/taobao/callback/" and query["view"] == "wap"
    assert "“集市”申请获得以下权限" in page and not TrackedLink.objects.exists()

    back = client.get(button(page, "grant"))
    assert back.status_code == 302 and back["Location"] == f"/rebate/g/{item}/#take"
    link = TrackedLink.objects.get(user=buyer)
    (session,) = [s for s, relation in fake_taobao.relations.items() if relation == link.tracking_id]
    assert session in fake_taobao.codes.values()  # the access token the code was exchanged for
    assert LinkRegistration.objects.get(user=buyer).session_encrypted == ""  # not kept once used
    assert "淘宝授权成功" in client.get(back["Location"]).content.decode()
    assert fake_taobao.refused == []  # the token call was signed as TOP requires


def test_a_replayed_callback_is_refused_and_the_code_is_good_once(fake_taobao: Any) -> None:
    source = web_source(fake_taobao)
    item = goods_id(Network.TAOBAO)
    client = signed_in(UserFactory())
    page, _query = authorisation_page(client, item)
    callback = button(page, "grant")
    assert client.get(callback).status_code == 302
    replay = client.get(callback)  # the nonce went with the first answer
    assert replay.status_code == 400 and "授权链接已失效" in replay.content.decode()
    code = parse_qs(urlsplit(callback).query)["code"][0]
    with pytest.raises(NetworkError) as used:
        taobao_oauth.exchange_code(source, code)
    assert used.value.authorization and not used.value.transient
    assert TrackedLink.objects.count() == 1


def test_a_state_from_another_buyer_forged_or_stale_is_400(fake_taobao: Any, monkeypatch: Any) -> None:
    web_source(fake_taobao)
    item = goods_id(Network.TAOBAO)
    victim, attacker = UserFactory(), UserFactory()
    attacker_client = signed_in(attacker)
    page, _query = authorisation_page(attacker_client, item)
    planted = button(page, "grant")  # the attacker's code, sent to somebody else's browser
    victim_client = signed_in(victim)
    authorisation_page(victim_client, item)  # the victim has a nonce of their own
    assert victim_client.get(planted).status_code == 400

    forged = re.sub(r"state=[^&]+", "state=eyJ1Ijo", planted)
    assert attacker_client.get(forged).status_code == 400  # and the forgery spent the nonce

    page, _query = authorisation_page(attacker_client, item)
    monkeypatch.setattr(taobao_oauth, "STATE_MAX_AGE_SECONDS", -1)  # ten minutes have passed
    assert attacker_client.get(button(page, "grant")).status_code == 400
    assert not TrackedLink.objects.exists()
    assert not LinkRegistration.objects.exclude(session_encrypted="").exists()  # no session reached Jishi


def test_a_denied_authorisation_goes_back_with_a_message_and_no_call(fake_taobao: Any) -> None:
    web_source(fake_taobao)
    item = goods_id(Network.TAOBAO)
    client = signed_in(UserFactory())
    page, _query = authorisation_page(client, item)
    calls = fake_taobao.calls
    back = client.get(button(page, "deny"), follow=True)
    assert back.status_code == 200 and "你取消了淘宝授权" in back.content.decode()
    assert fake_taobao.calls == calls and not TrackedLink.objects.exists()


def test_the_network_down_during_the_exchange_links_nobody(fake_taobao: Any) -> None:
    source = web_source(fake_taobao)
    item = goods_id(Network.TAOBAO)
    client = signed_in(UserFactory())
    page, _query = authorisation_page(client, item)
    source.endpoint = "http://127.0.0.1:9/router"  # nothing listens there
    source.save()
    back = client.get(button(page, "grant"), follow=True)
    assert back.status_code == 200 and "联盟暂时无法连接" in back.content.decode()
    assert not TrackedLink.objects.exists() and fake_taobao.used_codes == set()  # the code is still good


def test_the_state_names_the_buyer_the_goods_and_the_browser() -> None:
    state = taobao_oauth.State(user_id=7, goods_id=42, nonce="n0nce")
    raw = taobao_oauth.make_state(state)
    assert taobao_oauth.read_state(raw, user_id=7, nonce="n0nce") == state
    assert taobao_oauth.read_state(raw, user_id=8, nonce="n0nce") is None
    assert taobao_oauth.read_state(raw, user_id=7, nonce="other") is None
    assert taobao_oauth.read_state(raw, user_id=7, nonce="") is None
    assert taobao_oauth.read_state(raw[:-2] + "xx", user_id=7, nonce="n0nce") is None


def test_an_expired_token_answer_is_not_mistaken_for_a_session(fake_taobao: Any) -> None:
    """A refused code is the buyer's to redo (authorization), never a 5xx-worthy outage."""
    source = web_source(fake_taobao)
    with pytest.raises(NetworkError) as refused:
        taobao_oauth.exchange_code(source, "made-up-code")
    assert refused.value.authorization and fake_taobao.refused == ["code"]
    assert LinkRegistration.objects.filter(state=RegistrationState.DONE).count() == 0
