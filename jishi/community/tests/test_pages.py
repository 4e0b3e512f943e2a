"""Community pages through Django's client: list, join, refusals as problem pages, the 接龙 CSV for managers."""

from __future__ import annotations

import pytest
from django.test import Client

from jishi.community import activity
from jishi.community.models import Membership, MemberStatus
from jishi.testing.factories import UserFactory

from .conftest import make_group, member

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_group_list_shows_groups_and_my_status() -> None:
    group = make_group(name="宝妈团")
    user = member(group)
    make_group(name="本地生活")
    body = client_for(user).get("/community/").content.decode()
    assert "宝妈团" in body and "本地生活" in body
    assert body.count("已加入") == 1


def test_a_visitor_joins_from_the_group_page() -> None:
    group = make_group()
    user = UserFactory()
    c = client_for(user)
    assert "加入社群" in c.get(f"/community/groups/{group.pk}/").content.decode()
    res = c.post(f"/community/groups/{group.pk}/join/")
    assert res.status_code == 302
    assert Membership.objects.get(user=user).status == MemberStatus.ACTIVE
    assert "我已阅读并遵守群规" in c.get(f"/community/groups/{group.pk}/").content.decode()


def test_refusals_are_problem_pages() -> None:
    c = client_for(UserFactory())
    assert c.get("/community/groups/999999/").status_code == 404
    group = make_group()
    topic = activity.post_topic(member(group), group.pk, title="t")
    assert c.get(f"/community/topics/{topic.pk}/").status_code == 403
    assert c.get("/community/join/NOPE").status_code == 404


def test_pages_need_a_login() -> None:
    group = make_group()
    res = Client().get(f"/community/groups/{group.pk}/")
    assert res.status_code == 302
    assert res["Location"].startswith("/login/")


def test_signup_csv_is_for_managers() -> None:
    owner = UserFactory()
    group = make_group(owner_id=owner.pk)
    groups_member = member(group)
    signup = activity.post_topic(owner, group.pk, kind="signup", title="接龙")
    activity.sign_up(groups_member, signup.pk, 2)
    res = client_for(owner).get(f"/community/topics/{signup.pk}/signups.csv")
    assert res.status_code == 200
    assert res["Content-Type"] == "text/csv; charset=utf-8"
    assert res.content.decode("utf-8-sig").splitlines()[1].split(",")[3] == "2"
    assert client_for(groups_member).get(f"/community/topics/{signup.pk}/signups.csv").status_code == 403


def test_claim_refusal_is_a_message() -> None:
    from jishi.community import red_packets

    group = make_group()
    funder = member(group, wallet=1000)
    other = member(group)
    packet = red_packets.send(funder, group.pk, amount=100, shares=1, split="even")
    red_packets.claim(other, packet.pk)
    c = client_for(funder)
    res = c.post(f"/community/red-packets/{packet.pk}/claim/", follow=True)
    assert "红包已被领完" in res.content.decode()


def test_the_invite_poster_carries_the_members_own_link() -> None:
    import io

    from PIL import Image, ImageChops

    from jishi.community import groups
    from jishi.community.poster import QR_BOX, QR_SIZE, qr_image

    group = make_group(name="茶友会")
    inviter = member(group, UserFactory(nickname="老李"))
    res = client_for(inviter).get(f"/community/groups/{group.pk}/poster.png")
    assert (res.status_code, res["Content-Type"]) == (200, "image/png")
    poster = Image.open(io.BytesIO(res.content)).convert("RGB")
    assert poster.size == (750, 1180)

    code = poster.crop((QR_BOX[0], QR_BOX[1], QR_BOX[0] + QR_SIZE, QR_BOX[1] + QR_SIZE))
    mine = f"http://testserver{groups.invite_path(Membership.objects.get(user=inviter))}"
    other = f"http://testserver{groups.invite_path(Membership.objects.get(user=member(group)))}"
    assert ImageChops.difference(code, qr_image(mine)).getbbox() is None  # exactly this member's link
    assert ImageChops.difference(code, qr_image(other)).getbbox() is not None
    assert client_for(UserFactory()).get(f"/community/groups/{group.pk}/poster.png").status_code == 403
