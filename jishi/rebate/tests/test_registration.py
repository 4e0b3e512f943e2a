"""Buyer registration before a tracked link, through the fakes speaking each network's signing:
Taobao's relation_id (taobao.tbk.sc.publisher.info.save with the inviter code), Pinduoduo's 备案
(pdd.ddk.member.authority.query, then the pdd.ddk.rp.prom.url.generate page, channel_type 10),
JD's subUnionId without any call. Intent → call → settle, never inside a transaction; a refused
buyer authorisation is a 409 asking for a new one, a refused shop account a 409 (the network is
unavailable until the operator fixes it), an outage a 502, never a 500; a crash between the call
and the settle is finished by the job."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from conftest import Api
from jishi.core.errors import Conflict, DomainError
from jishi.rebate import feeds, links, registration
from jishi.rebate.adapters import custom_parameters
from jishi.rebate.fakes import FakeNetwork, goods_rows
from jishi.rebate.models import LinkRegistration, Network, RebateGoods, RegistrationState, TrackedLink
from jishi.rebate.registration import AuthorizationRequired
from jishi.testing.factories import AdminFactory, UserFactory

from .conftest import source_for
from .test_feeds import PDD_ITEM, TAOBAO_ITEM

pytestmark = pytest.mark.django_db


def taobao_source(fake: FakeNetwork, **extra: Any) -> Any:
    return source_for(fake, pid="mm_1_2_3", inviter_code=fake.inviter_code, **extra)  # type: ignore[attr-defined]


def goods_id(network: str) -> int:
    row = {Network.TAOBAO: TAOBAO_ITEM, Network.PDD: PDD_ITEM, Network.JD: goods_rows("jd", 1)[0]}[Network(network)]
    feeds.import_goods(network, [row])
    return RebateGoods.objects.get(network=network).pk


def test_taobao_buyer_is_registered_once_and_the_relation_id_reused(
    fake_taobao: Any, buyer: Any, buyer_api: Api
) -> None:
    taobao_source(fake_taobao)
    item = goods_id(Network.TAOBAO)
    first = buyer_api.post(f"rebate/goods/{item}/link")
    assert (first.status_code, first.json()["error"]["code"]) == (409, "taobao_authorization_required")
    assert not TrackedLink.objects.filter(user=buyer).exists()

    body = buyer_api.post(f"rebate/goods/{item}/link", {"taobao_session": "buyer-taobao-token"}).json()
    relation_id = fake_taobao.relations["buyer-taobao-token"]
    assert body["tracking_id"] == relation_id and f"relationId={relation_id}" in body["url"]
    calls = fake_taobao.calls
    again = buyer_api.post(f"rebate/goods/{item}/link").json()
    assert (again["tracking_id"], again["share_code"], fake_taobao.calls) == (relation_id, body["share_code"], calls)
    done = LinkRegistration.objects.get(user=buyer)
    assert (done.state, done.external_id, done.session_encrypted) == (RegistrationState.DONE, relation_id, "")
    assert fake_taobao.refused == []  # every call was signed as TOP requires


def test_a_refused_shop_configuration_is_409_and_a_new_authorisation_retries(
    fake_taobao: Any, buyer: Any, buyer_api: Api
) -> None:
    source = taobao_source(fake_taobao)
    source.inviter_code = "WRONG"
    source.save()
    item = goods_id(Network.TAOBAO)
    refused = buyer_api.post(f"rebate/goods/{item}/link", {"taobao_session": "tok"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "rebate_network_unavailable")
    failed = LinkRegistration.objects.get(user=buyer)
    assert failed.state == RegistrationState.FAILED and "isv.invalid-parameter" in failed.last_error
    assert fake_taobao.refused == ["inviter_code"]
    source.inviter_code = fake_taobao.inviter_code
    source.save()
    ok = buyer_api.post(f"rebate/goods/{item}/link", {"taobao_session": "tok"})
    assert ok.status_code == 200 and ok.json()["tracking_id"] == fake_taobao.relations["tok"]


def test_the_console_retries_registrations_the_shops_configuration_failed(fake_taobao: Any) -> None:
    source = taobao_source(fake_taobao)
    source.inviter_code = "WRONG"
    source.save()
    stuck, refused = UserFactory(), UserFactory()
    with pytest.raises(DomainError):
        links.link_for(stuck, Network.TAOBAO, taobao_session="kept-token")
    fake_taobao.expired_sessions.add("expired-token")
    source.inviter_code = fake_taobao.inviter_code  # the operator fixes the inviter code
    source.save()
    with pytest.raises(AuthorizationRequired):
        links.link_for(refused, Network.TAOBAO, taobao_session="expired-token")
    console = Client()
    console.force_login(AdminFactory())
    ids = list(LinkRegistration.objects.values_list("pk", flat=True))
    response = console.post(
        "/console/rebate/linkregistration/", {"action": "retry", "_selected_action": ids}, follow=True
    )
    assert "已重新提交 1 个备案" in response.content.decode()
    assert TrackedLink.objects.get(user=stuck).tracking_id == fake_taobao.relations["kept-token"]
    assert LinkRegistration.objects.get(user=refused).state == RegistrationState.FAILED  # waits for the buyer
    assert not TrackedLink.objects.filter(user=refused).exists()


def test_an_expired_taobao_authorisation_is_409_and_asks_for_a_new_one(
    fake_taobao: Any, buyer: Any, buyer_api: Api
) -> None:
    taobao_source(fake_taobao)
    fake_taobao.expired_sessions.add("old-token")
    item = goods_id(Network.TAOBAO)
    refused = buyer_api.post(f"rebate/goods/{item}/link", {"taobao_session": "old-token"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "taobao_authorization_required")
    assert "重新授权" in refused.json()["error"]["message"]
    failed = LinkRegistration.objects.get(user=buyer)
    assert failed.state == RegistrationState.FAILED and failed.last_error.startswith("invalid-sessionkey")
    assert failed.session_encrypted == ""  # the refused authorisation is not kept nor retried by the job
    assert registration.resume_registrations(now=timezone.now() + timedelta(minutes=3)) == 0
    calls = fake_taobao.calls
    again = buyer_api.post(f"rebate/goods/{item}/link")  # no new authorisation: asked for one, no call
    assert (again.status_code, again.json()["error"]["code"], fake_taobao.calls) == (
        409,
        "taobao_authorization_required",
        calls,
    )
    ok = buyer_api.post(f"rebate/goods/{item}/link", {"taobao_session": "new-token"})
    assert ok.status_code == 200 and ok.json()["tracking_id"] == fake_taobao.relations["new-token"]
    assert not TrackedLink.objects.exclude(tracking_id=fake_taobao.relations["new-token"]).exists()


@pytest.mark.parametrize(
    ("error", "status", "code", "state"),
    [
        # TOP platform errors, by their documented codes: the session (26/27/53) is the buyer's to renew;
        # isp.* and the call limit (7) are the network's, retried by the job; isv.* is the shop's request.
        ((27, "Invalid session", "session-expired", ""), 409, "taobao_authorization_required", "failed"),
        ((53, "Insufficient session permissions", "", ""), 409, "taobao_authorization_required", "failed"),
        (
            (15, "Remote service error", "isp.top-remote-connection-timeout", ""),
            502,
            "rebate_network_unavailable",
            "pending",
        ),
        (
            (7, "App Call Limited", "accesscontrol.limited-by-api-access-count", ""),
            502,
            "rebate_network_unavailable",
            "pending",
        ),
        (
            (11, "Insufficient ISV Permissions", "isv.permission-api-package-limit", ""),
            409,
            "rebate_network_unavailable",
            "failed",
        ),
    ],
)
def test_taobao_errors_are_told_apart_by_their_top_codes(
    fake_taobao: Any, buyer: Any, buyer_api: Api, error: tuple[int, str, str, str], status: int, code: str, state: str
) -> None:
    taobao_source(fake_taobao)
    fake_taobao.failing_with = fake_taobao.error(*error)["error_response"]
    item = goods_id(Network.TAOBAO)
    response = buyer_api.post(f"rebate/goods/{item}/link", {"taobao_session": "tok"})
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    intent = LinkRegistration.objects.get(user=buyer)
    refused_session = code == "taobao_authorization_required"
    assert intent.state == state and bool(intent.session_encrypted) != refused_session
    fake_taobao.failing_with = None
    resumed = registration.resume_registrations(now=timezone.now() + timedelta(minutes=3))
    assert resumed == (1 if state == "pending" else 0)  # only the network's own fault is the job's to retry


def test_unreachable_network_is_502_and_the_intent_stays_for_the_job(fake_taobao: Any, buyer_api: Api) -> None:
    source = taobao_source(fake_taobao)
    source.endpoint = "http://127.0.0.1:9/router"  # nothing listens there
    source.save()
    item = goods_id(Network.TAOBAO)
    response = buyer_api.post(f"rebate/goods/{item}/link", {"taobao_session": "tok"})
    assert (response.status_code, response.json()["error"]["code"]) == (502, "rebate_network_unavailable")
    intent = LinkRegistration.objects.get()
    assert intent.state == RegistrationState.PENDING and intent.last_error.startswith("unreachable")
    source.endpoint = fake_taobao.url
    source.save()
    assert registration.resume_registrations(now=timezone.now() + timedelta(minutes=3)) == 1
    assert TrackedLink.objects.get().tracking_id == fake_taobao.relations["tok"]


def test_a_crash_between_the_call_and_the_settle_is_resumed(fake_taobao: Any, monkeypatch: Any) -> None:
    taobao_source(fake_taobao)
    buyer = UserFactory()

    def crash(*args: Any) -> Any:
        raise RuntimeError("worker died")

    monkeypatch.setattr(registration, "settle", crash)
    with pytest.raises(RuntimeError):
        links.link_for(buyer, Network.TAOBAO, taobao_session="tok")
    assert "tok" in fake_taobao.relations  # the network registered the buyer
    intent = LinkRegistration.objects.get(user=buyer)
    assert intent.state == RegistrationState.PENDING and intent.session_encrypted  # kept, encrypted, for the job
    monkeypatch.undo()
    assert registration.resume_registrations() == 0  # still within the crashed caller's lease
    with pytest.raises(Conflict):  # and a second caller does not talk over it
        links.link_for(buyer, Network.TAOBAO)
    assert registration.resume_registrations(now=timezone.now() + timedelta(minutes=3)) == 1
    link = TrackedLink.objects.get(user=buyer)
    assert link.tracking_id == fake_taobao.relations["tok"]  # the same relation_id the network gave first
    assert LinkRegistration.objects.get(user=buyer).state == RegistrationState.DONE
    assert links.link_for(buyer, Network.TAOBAO) == link


def test_pdd_buyer_is_sent_to_the_registration_page_then_linked(fake_pdd: Any, buyer: Any, buyer_api: Api) -> None:
    source_for(fake_pdd, pid="1000_2000")
    item = goods_id(Network.PDD)
    response = buyer_api.post(f"rebate/goods/{item}/link")
    error = response.json()["error"]
    assert (response.status_code, error["code"]) == (409, "pdd_registration_required")
    url = error["fields"]["authorize_url"][0]
    assert "pid=1000_2000" in url and url.startswith(fake_pdd.url.rsplit("/", 1)[0])
    assert fake_pdd.offered == {f"jishi{buyer.pk}"}
    calls = fake_pdd.calls
    again = buyer_api.post(f"rebate/goods/{item}/link").json()["error"]
    assert again["fields"]["authorize_url"] == [url] and fake_pdd.calls == calls + 1  # only the authority check
    fake_pdd.authorized.add(f"jishi{buyer.pk}")  # the buyer completes 备案 on Pinduoduo's page
    assert registration.resume_registrations() == 1  # the job notices without the buyer coming back
    body = buyer_api.post(f"rebate/goods/{item}/link").json()
    assert body["tracking_id"] == f"jishi{buyer.pk}"
    assert (
        body["share_code"] in body["share_text"]
        and TrackedLink.objects.get(user=buyer).tracking_id == body["tracking_id"]
    )
    assert fake_pdd.refused == []


def test_opening_the_pdd_registration_page_registers_the_buyer(fake_pdd: Any) -> None:
    import requests

    source_for(fake_pdd, pid="1000_2000")
    buyer = UserFactory()
    with pytest.raises(AuthorizationRequired) as offered:
        links.link_for(buyer, Network.PDD)
    unknown = requests.get(f"{fake_pdd.url.rsplit('/', 1)[0]}/duo_transfer_channel.html?uid=nobody", timeout=5)
    assert "链接无效" in unknown.text and "nobody" not in fake_pdd.authorized
    page = requests.get(offered.value.authorize_url, timeout=5)
    assert page.status_code == 200 and "授权成功" in page.text
    assert links.link_for(buyer, Network.PDD).tracking_id == f"jishi{buyer.pk}"


def test_pdd_refusing_the_shops_signature_is_409_and_an_outage_502(fake_pdd: Any, buyer_api: Api) -> None:
    source = source_for(fake_pdd, pid="1000_2000")
    source.secret_encrypted = source_for(fake_pdd, secret="wrong").secret_encrypted
    source.save()
    item = goods_id(Network.PDD)
    response = buyer_api.post(f"rebate/goods/{item}/link")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "rebate_network_unavailable")
    assert fake_pdd.refused == ["sign"]
    assert LinkRegistration.objects.get().last_error.startswith("10019")  # the network's words, for the console
    source.endpoint = "http://127.0.0.1:9/router"  # nothing listens there
    source.save()
    response = buyer_api.post(f"rebate/goods/{item}/link")
    assert (response.status_code, response.json()["error"]["code"]) == (502, "rebate_network_unavailable")


def test_custom_parameters_stay_within_64_bytes() -> None:
    assert custom_parameters("jishi12345") == '{"uid":"jishi12345"}'
    with pytest.raises(ValueError, match="64 bytes"):
        custom_parameters("x" * 60)


def test_jd_needs_no_registration_and_no_source() -> None:
    buyer = UserFactory()
    link = links.link_for(buyer, Network.JD)
    assert link.tracking_id == f"jishi_{buyer.pk}" and not LinkRegistration.objects.exists()


def test_a_network_without_a_source_is_409() -> None:
    with pytest.raises(DomainError) as raised:
        links.link_for(UserFactory(), Network.PDD)
    assert (raised.value.status, raised.value.code) == (409, "rebate_network_unavailable")


def test_the_network_is_never_called_inside_a_transaction(fake_taobao: Any) -> None:
    taobao_source(fake_taobao)
    with pytest.raises(RuntimeError, match="inside a transaction"), transaction.atomic():
        links.link_for(UserFactory(), Network.TAOBAO, taobao_session="tok")
    assert fake_taobao.calls == 0


def test_one_taobao_account_cannot_track_two_buyers(fake_taobao: Any) -> None:
    taobao_source(fake_taobao)
    first, second = UserFactory(), UserFactory()
    links.link_for(first, Network.TAOBAO, taobao_session="same-taobao-account")
    with pytest.raises(Conflict) as raised:
        links.link_for(second, Network.TAOBAO, taobao_session="same-taobao-account")
    assert raised.value.code == "tracking_id_taken"
    assert LinkRegistration.objects.get(user=second).state == RegistrationState.FAILED


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_storefront_take_sends_a_pdd_buyer_to_the_registration_page(fake_pdd: Any) -> None:
    source_for(fake_pdd, pid="1000_2000")
    item = goods_id(Network.PDD)
    buyer = UserFactory()
    client = signed_in(buyer)
    response = client.post(f"/rebate/g/{item}/take/")
    assert response.status_code == 302 and "duo_transfer_channel" in response["Location"]
    fake_pdd.authorized.add(f"jishi{buyer.pk}")
    back = client.post(f"/rebate/g/{item}/take/")
    assert back["Location"].endswith("#take") and TrackedLink.objects.filter(user=buyer).exists()


def test_storefront_take_tells_an_unauthorised_or_unreachable_network(fake_taobao: Any) -> None:
    source = taobao_source(fake_taobao, oauth_url="")  # App authorisation only: no web OAuth page
    item = goods_id(Network.TAOBAO)
    buyer = UserFactory()
    client = signed_in(buyer)
    page = client.post(f"/rebate/g/{item}/take/", follow=True).content.decode()
    assert "请先在集市 App 中授权淘宝账号，再领券" in page and not TrackedLink.objects.exists()
    assert fake_taobao.authorizations == 0
    source.endpoint = "http://127.0.0.1:9/router"
    source.save()
    with pytest.raises(DomainError):
        links.link_for(buyer, Network.TAOBAO, taobao_session="tok")  # the app handed the authorisation over
    page = client.post(f"/rebate/g/{item}/take/", follow=True)
    assert page.status_code == 200 and "联盟暂时无法连接" in page.content.decode()
