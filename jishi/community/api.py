"""REST endpoints for community groups (thin: parse, authorise, call a service, serialise)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status

from jishi.accounts.auth import buyer_auth, current_user, operator_auth
from jishi.core.api import ObjectId, PageLimit, PageOffset, page_bounds, responses

from . import activity, fans, groups, guests, offers, red_packets
from .models import Group, GroupRedPacket, GuestSession, Membership, MemberStatus, PacketSource, Reply, Topic

router = Router(auth=buyer_auth)
admin_router = Router(auth=operator_auth)

InviteCode = Annotated[str, Path(max_length=12)]
Id = Field(None, ge=1, le=2**63 - 1)
JoinModeIn = Literal["open", "invite", "approval", "level", "buyers"]


# --- schemas -----------------------------------------------------------------------------------


class CommunityGroupIn(Schema):
    name: str = Field(..., min_length=1, max_length=64)
    theme: str = Field(..., min_length=1, max_length=200)
    rules: str = Field(..., min_length=1, max_length=4000)
    join_mode: JoinModeIn = "open"
    capacity: int | None = Field(None, ge=1, le=100_000)
    required_level_id: int | None = Id
    required_product_id: int | None = Id
    owner_id: int | None = Id
    cover_colour: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")


class CommunityGroupPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=64)
    theme: str | None = Field(None, min_length=1, max_length=200)
    rules: str | None = Field(None, min_length=1, max_length=4000)
    join_mode: JoinModeIn | None = None
    capacity: int | None = Field(None, ge=1, le=100_000)
    required_level_id: int | None = Id
    required_product_id: int | None = Id
    cover_colour: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")
    is_active: bool | None = None


class CommunityGroupOut(Schema):
    id: int
    name: str
    theme: str
    rules: str
    rules_version: int
    join_mode: str
    capacity: int
    member_count: int
    cover: str
    cover_colour: str
    owner_id: int | None
    is_active: bool


class CommunityMembershipOut(Schema):
    group_id: int
    user_id: int
    nickname: str
    role: str
    status: str
    rules_acknowledged: bool
    muted_until: datetime | None
    digest_opt_out: bool
    invite_path: str
    joined_at: datetime | None


class CommunityGroupDetailOut(CommunityGroupOut):
    me: CommunityMembershipOut | None


class CommunityGroupPage(Schema):
    items: list[CommunityGroupOut]
    total: int


class CommunityJoinOut(Schema):
    status: Literal["joined", "pending"]
    rules: str
    rules_version: int
    group_id: int


class CommunityPageIn(Schema):
    limit: PageLimit | None = None
    offset: PageOffset | None = None


class CommunityMembersIn(CommunityPageIn):
    status: Literal["active", "pending", "left", "removed", "rejected"] = "active"


def group_body(group: Group) -> dict[str, Any]:
    return {
        "id": group.pk,
        "name": group.name,
        "theme": group.theme,
        "rules": group.rules,
        "rules_version": group.rules_version,
        "join_mode": group.join_mode,
        "capacity": group.capacity,
        "member_count": group.member_count,
        "cover": group.cover.url if group.cover else "",
        "cover_colour": group.cover_colour,
        "owner_id": group.owner_id,
        "is_active": group.is_active,
    }


def membership_body(m: Membership, rules_version: int) -> dict[str, Any]:
    return {
        "group_id": m.group_id,
        "user_id": m.user_id,
        "nickname": str(m.user),
        "role": m.role,
        "status": m.status,
        "rules_acknowledged": m.rules_version_acked >= rules_version,
        "muted_until": m.muted_until,
        "digest_opt_out": m.digest_opt_out,
        "invite_path": groups.invite_path(m),
        "joined_at": m.joined_at,
    }


def join_body(m: Membership) -> dict[str, Any]:
    group = m.group
    return {
        "status": "joined" if m.status == MemberStatus.ACTIVE else "pending",
        "rules": group.rules,
        "rules_version": group.rules_version,
        "group_id": group.pk,
    }


# --- operators ------------------------------------------------------------------------------------


@admin_router.post("/community/groups", response=responses(CommunityGroupOut, 201))
def admin_create_group(request: HttpRequest, body: CommunityGroupIn) -> Any:
    return Status(201, group_body(groups.create_group(current_user(request), body.dict())))


@admin_router.get("/community/groups", response=responses(CommunityGroupPage))
def admin_group_list(request: HttpRequest, q: Query[CommunityPageIn]) -> Any:
    limit, offset = page_bounds(q.limit, q.offset)
    rows = Group.objects.order_by("-id")
    return {"items": [group_body(g) for g in rows[offset : offset + limit]], "total": rows.count()}


@admin_router.patch("/community/groups/{group_id}", response=responses(CommunityGroupOut))
def admin_update_group(request: HttpRequest, group_id: ObjectId, body: CommunityGroupPatch) -> Any:
    data = body.dict(exclude_unset=True)
    return group_body(groups.update_group(current_user(request), group_id, data))


class CommunityRoleIn(Schema):
    role: Literal["owner", "admin", "member"]


@admin_router.post("/community/groups/{group_id}/members/{user_id}/role", response=responses(CommunityMembershipOut))
def admin_set_role(request: HttpRequest, group_id: ObjectId, user_id: ObjectId, body: CommunityRoleIn) -> Any:
    m = groups.set_role(current_user(request), group_id, user_id, body.role)
    return membership_body(m, groups.get_group(group_id, active_only=False).rules_version)


# --- buyers: groups and membership --------------------------------------------------------------


@router.get("/community/groups", response=responses(CommunityGroupPage), auth=None)
def group_list(request: HttpRequest, q: Query[CommunityPageIn]) -> Any:
    limit, offset = page_bounds(q.limit, q.offset)
    rows, total = groups.group_list(limit, offset)
    return {"items": [group_body(g) for g in rows], "total": total}


@router.get("/community/groups/mine", response=responses(list[CommunityMembershipOut]))
def my_groups(request: HttpRequest) -> Any:
    return [membership_body(m, m.group.rules_version) for m in groups.groups_of(current_user(request).pk)]


@router.get("/community/groups/{group_id}", response=responses(CommunityGroupDetailOut))
def group_detail(request: HttpRequest, group_id: ObjectId) -> Any:
    user = current_user(request)
    group = groups.get_group(group_id)
    me = Membership.objects.filter(group=group, user=user).select_related("user").first()
    return {**group_body(group), "me": membership_body(me, group.rules_version) if me else None}


@router.post("/community/groups/{group_id}/join", response=responses(CommunityJoinOut))
def join_group(request: HttpRequest, group_id: ObjectId) -> Any:
    return join_body(groups.join(current_user(request), group_id))


class CommunityInviteOut(Schema):
    group: CommunityGroupOut
    inviter: str


@router.get("/community/invites/{code}", response=responses(CommunityInviteOut), auth=None)
def invite_detail(request: HttpRequest, code: InviteCode) -> Any:
    inviter = groups.membership_by_invite(code)
    return {"group": group_body(inviter.group), "inviter": str(inviter.user)}


@router.post("/community/invites/{code}/join", response=responses(CommunityJoinOut))
def join_by_invite(request: HttpRequest, code: InviteCode) -> Any:
    return join_body(groups.join_by_invite(current_user(request), code))


@router.post("/community/groups/{group_id}/rules/ack", response=responses(CommunityMembershipOut))
def ack_rules(request: HttpRequest, group_id: ObjectId) -> Any:
    m = groups.ack_rules(current_user(request), group_id)
    return membership_body(m, m.group.rules_version)


@router.post("/community/groups/{group_id}/leave", response=responses(CommunityMembershipOut))
def leave_group(request: HttpRequest, group_id: ObjectId) -> Any:
    m = groups.leave(current_user(request), group_id)
    return membership_body(m, m.group.rules_version)


class CommunityDigestIn(Schema):
    opt_out: bool


@router.post("/community/groups/{group_id}/digest", response=responses(CommunityMembershipOut))
def digest_preference(request: HttpRequest, group_id: ObjectId, body: CommunityDigestIn) -> Any:
    m = groups.set_digest_opt_out(current_user(request), group_id, body.opt_out)
    return membership_body(m, m.group.rules_version)


@router.get("/community/groups/{group_id}/members", response=responses(list[CommunityMembershipOut]))
def member_list(request: HttpRequest, group_id: ObjectId, q: Query[CommunityMembersIn]) -> Any:
    """Members see the member list; pending and past members are for the group's managers."""
    user = current_user(request)
    group = groups.get_group(group_id)
    limit, offset = page_bounds(q.limit, q.offset)
    if q.status == "active":
        groups.active_membership(user.pk, group.pk)
    else:
        groups.require_manager(user, group.pk)
    return [membership_body(m, group.rules_version) for m in groups.members_of(group.pk, q.status, limit, offset)]


class CommunityReviewIn(Schema):
    approve: bool


@router.post("/community/groups/{group_id}/members/{user_id}/review", response=responses(CommunityMembershipOut))
def review_member(request: HttpRequest, group_id: ObjectId, user_id: ObjectId, body: CommunityReviewIn) -> Any:
    m = groups.review_request(current_user(request), group_id, user_id, body.approve)
    return membership_body(m, m.group.rules_version)


class CommunityMuteIn(Schema):
    minutes: int = Field(..., ge=0, le=43_200)


@router.post("/community/groups/{group_id}/members/{user_id}/mute", response=responses(CommunityMembershipOut))
def mute_member(request: HttpRequest, group_id: ObjectId, user_id: ObjectId, body: CommunityMuteIn) -> Any:
    m = groups.mute(current_user(request), group_id, user_id, body.minutes)
    return membership_body(m, m.group.rules_version)


@router.post("/community/groups/{group_id}/members/{user_id}/remove", response=responses(CommunityMembershipOut))
def remove_member(request: HttpRequest, group_id: ObjectId, user_id: ObjectId) -> Any:
    m = groups.remove(current_user(request), group_id, user_id)
    return membership_body(m, m.group.rules_version)


# --- red packets -----------------------------------------------------------------------------------


class CommunityRedPacketIn(Schema):
    amount: int = Field(..., ge=1, le=2_000_000)
    shares: int = Field(..., ge=1, le=500)
    split: Literal["random", "even"]
    source: Literal["wallet"] = "wallet"
    greeting: str = Field("", max_length=40)


class CommunityBudgetRedPacketIn(Schema):
    amount: int = Field(..., ge=1, le=2_000_000)
    shares: int = Field(..., ge=1, le=500)
    split: Literal["random", "even"]
    greeting: str = Field("", max_length=40)


class CommunityClaimOut(Schema):
    user_id: int
    nickname: str
    amount: int
    claimed_at: datetime
    best: bool


class CommunityRedPacketOut(Schema):
    id: int
    group_id: int
    funder: str
    source: str
    split: str
    greeting: str
    amount: int
    shares: int
    claimed_count: int
    claimed_amount: int
    refunded_amount: int
    status: str
    created_at: datetime
    expires_at: datetime
    mine: int | None


class CommunityRedPacketDetailOut(CommunityRedPacketOut):
    claims: list[CommunityClaimOut]


class CommunityClaimedOut(Schema):
    amount: int
    packet_id: int


def packet_body(packet: GroupRedPacket, mine: int | None = None) -> dict[str, Any]:
    return {
        "id": packet.pk,
        "group_id": packet.group_id,
        "funder": str(packet.funder),
        "source": packet.source,
        "split": packet.split,
        "greeting": packet.greeting,
        "amount": packet.amount,
        "shares": packet.shares,
        "claimed_count": packet.claimed_count,
        "claimed_amount": packet.claimed_amount,
        "refunded_amount": packet.refunded_amount,
        "status": packet.status,
        "created_at": packet.created_at,
        "expires_at": packet.expires_at,
        "mine": mine,
    }


@router.post("/community/groups/{group_id}/red-packets", response=responses(CommunityRedPacketOut, 201))
def send_red_packet(request: HttpRequest, group_id: ObjectId, body: CommunityRedPacketIn) -> Any:
    packet = red_packets.send(
        current_user(request),
        group_id,
        amount=body.amount,
        shares=body.shares,
        split=body.split,
        source=PacketSource.WALLET,
        greeting=body.greeting,
    )
    return Status(201, packet_body(packet))


@admin_router.post("/community/groups/{group_id}/red-packets", response=responses(CommunityRedPacketOut, 201))
def admin_send_red_packet(request: HttpRequest, group_id: ObjectId, body: CommunityBudgetRedPacketIn) -> Any:
    packet = red_packets.send_from_budget(
        current_user(request),
        group_id,
        amount=body.amount,
        shares=body.shares,
        split=body.split,
        greeting=body.greeting,
    )
    return Status(201, packet_body(packet))


@router.get("/community/groups/{group_id}/red-packets", response=responses(list[CommunityRedPacketOut]))
def group_red_packets(request: HttpRequest, group_id: ObjectId) -> Any:
    user = current_user(request)
    groups.active_membership(user.pk, group_id)
    packets = red_packets.packets_in(group_id)
    mine = red_packets.my_shares(user.pk, [p.pk for p in packets])
    return [packet_body(p, mine.get(p.pk)) for p in packets]


@router.get("/community/red-packets/{packet_id}", response=responses(CommunityRedPacketDetailOut))
def red_packet_detail(request: HttpRequest, packet_id: ObjectId) -> Any:
    user = current_user(request)
    packet = red_packets.get_packet(packet_id)
    groups.active_membership(user.pk, packet.group_id)
    claims = [c.__dict__ for c in red_packets.claims_of(packet)]
    return {**packet_body(packet, red_packets.my_shares(user.pk, [packet.pk]).get(packet.pk)), "claims": claims}


@router.post("/community/red-packets/{packet_id}/claim", response=responses(CommunityClaimedOut))
def claim_red_packet(request: HttpRequest, packet_id: ObjectId) -> Any:
    share = red_packets.claim(current_user(request), packet_id)
    return {"amount": share.amount, "packet_id": packet_id}


# --- activity: topics, replies, announcements, product cards, 接龙, polls -----------------------------


class CommunityTopicIn(Schema):
    kind: Literal["topic", "announcement", "share", "signup", "poll"] = "topic"
    title: str = Field(..., min_length=1, max_length=80)
    body: str = Field("", max_length=20_000)
    product_id: int | None = Id
    pinned: bool = False
    options: list[str] = Field([], max_length=10)
    signup_deadline: datetime | None = None


class CommunityProductCardOut(Schema):
    id: int
    name: str
    price: int
    image: str
    buyable: bool
    url: str


class CommunityPollOptionOut(Schema):
    seq: int
    text: str
    votes: int


class CommunityTopicOut(Schema):
    id: int
    group_id: int
    kind: str
    title: str
    body_html: str
    author: str
    pinned: bool
    status: str
    product: CommunityProductCardOut | None
    reply_count: int
    like_count: int
    signup_total: int
    signup_deadline: datetime | None
    options: list[CommunityPollOptionOut]
    my_vote: int | None
    created_at: datetime


def product_card(product: Any, group_id: int) -> dict[str, Any] | None:
    if product is None:
        return None
    images = list(product.images.all())
    return {
        "id": product.pk,
        "name": product.name,
        "price": product.price,
        "image": images[0].image.url if images else "",
        "buyable": product.status == "published",
        "url": f"/p/{product.pk}/?group={group_id}",
    }


def topic_body(topic: Topic, viewer_id: int | None = None) -> dict[str, Any]:
    poll = topic.kind == "poll"
    return {
        "id": topic.pk,
        "group_id": topic.group_id,
        "kind": topic.kind,
        "title": topic.title,
        "body_html": topic.body_html,
        "author": str(topic.author),
        "pinned": topic.pinned,
        "status": topic.status,
        "product": product_card(topic.product, topic.group_id),
        "reply_count": topic.reply_count,
        "like_count": topic.like_count,
        "signup_total": topic.signup_total,
        "signup_deadline": topic.signup_deadline,
        "options": [{"seq": o.seq, "text": o.text, "votes": o.votes} for o in activity.poll_results(topic)]
        if poll
        else [],
        "my_vote": activity.my_vote(viewer_id, topic.pk) if poll and viewer_id else None,
        "created_at": topic.created_at,
    }


class CommunityTopicsIn(CommunityPageIn):
    kind: Literal["", "topic", "announcement", "share", "signup", "poll", "qa"] = ""


@router.post("/community/groups/{group_id}/topics", response=responses(CommunityTopicOut, 201))
def post_topic(request: HttpRequest, group_id: ObjectId, body: CommunityTopicIn) -> Any:
    user = current_user(request)
    topic = activity.post_topic(user, group_id, **body.dict())
    return Status(201, topic_body(topic, user.pk))


@router.get("/community/groups/{group_id}/topics", response=responses(list[CommunityTopicOut]))
def topic_list(request: HttpRequest, group_id: ObjectId, q: Query[CommunityTopicsIn]) -> Any:
    user = current_user(request)
    limit, offset = page_bounds(q.limit, q.offset)
    return [topic_body(t, user.pk) for t in activity.topics_of(user, group_id, q.kind, limit, offset)]


@router.get("/community/topics/{topic_id}", response=responses(CommunityTopicOut))
def topic_detail(request: HttpRequest, topic_id: ObjectId) -> Any:
    user = current_user(request)
    return topic_body(activity.visible_topic(user, topic_id), user.pk)


class CommunityReplyIn(Schema):
    body: str = Field(..., min_length=1, max_length=2000)


class CommunityReplyOut(Schema):
    id: int
    author: str
    body: str  # plain text: escape it when putting it into a page
    status: str
    highlighted: bool  # a featured guest's answer
    created_at: datetime


def reply_body(r: Reply) -> dict[str, Any]:
    return {
        "id": r.pk,
        "author": str(r.author),
        "body": r.body,
        "status": r.status,
        "highlighted": r.highlighted,
        "created_at": r.created_at,
    }


@router.post("/community/topics/{topic_id}/replies", response=responses(CommunityReplyOut, 201))
def post_reply(request: HttpRequest, topic_id: ObjectId, body: CommunityReplyIn) -> Any:
    return Status(201, reply_body(activity.reply(current_user(request), topic_id, body.body)))


@router.get("/community/topics/{topic_id}/replies", response=responses(list[CommunityReplyOut]))
def reply_list(request: HttpRequest, topic_id: ObjectId, q: Query[CommunityPageIn]) -> Any:
    limit, offset = page_bounds(q.limit, q.offset)
    return [reply_body(r) for r in activity.replies_of(current_user(request), topic_id, limit, offset)]


class CommunityLikedOut(Schema):
    counted: bool


@router.post("/community/topics/{topic_id}/like", response=responses(CommunityLikedOut))
def like_topic(request: HttpRequest, topic_id: ObjectId) -> Any:
    return {"counted": activity.like(current_user(request), topic_id)}


class CommunityModerateIn(Schema):
    approve: bool


@router.post("/community/topics/{topic_id}/moderate", response=responses(CommunityTopicOut))
def moderate_topic(request: HttpRequest, topic_id: ObjectId, body: CommunityModerateIn) -> Any:
    user = current_user(request)
    return topic_body(activity.moderate(user, topic_id=topic_id, approve=body.approve), user.pk)


@router.post("/community/replies/{reply_id}/moderate", response=responses(CommunityReplyOut))
def moderate_reply(request: HttpRequest, reply_id: ObjectId, body: CommunityModerateIn) -> Any:
    return reply_body(activity.moderate(current_user(request), reply_id=reply_id, approve=body.approve))


class CommunityPinIn(Schema):
    pinned: bool


@router.post("/community/topics/{topic_id}/pin", response=responses(CommunityTopicOut))
def pin_topic(request: HttpRequest, topic_id: ObjectId, body: CommunityPinIn) -> Any:
    user = current_user(request)
    return topic_body(activity.pin(user, topic_id, body.pinned), user.pk)


class CommunitySignupIn(Schema):
    quantity: int = Field(..., ge=1, le=99)
    note: str = Field("", max_length=60)


class CommunitySignupOut(Schema):
    seq: int
    nickname: str
    quantity: int
    note: str
    created_at: datetime


@router.post("/community/topics/{topic_id}/signups", response=responses(list[CommunitySignupOut]))
def sign_up(request: HttpRequest, topic_id: ObjectId, body: CommunitySignupIn) -> Any:
    user = current_user(request)
    activity.sign_up(user, topic_id, body.quantity, body.note)
    return _signup_rows(user, topic_id)


@router.delete("/community/topics/{topic_id}/signups", response=responses(list[CommunitySignupOut]))
def withdraw_signup(request: HttpRequest, topic_id: ObjectId) -> Any:
    user = current_user(request)
    activity.withdraw_signup(user, topic_id)
    return _signup_rows(user, topic_id)


@router.get("/community/topics/{topic_id}/signups", response=responses(list[CommunitySignupOut]))
def signup_list(request: HttpRequest, topic_id: ObjectId) -> Any:
    return _signup_rows(current_user(request), topic_id)


def _signup_rows(user: Any, topic_id: int) -> list[dict[str, Any]]:
    return [
        {"seq": n, "nickname": str(e.user), "quantity": e.quantity, "note": e.note, "created_at": e.created_at}
        for n, e in enumerate(activity.signups_of(user, topic_id), start=1)
    ]


class CommunityVoteIn(Schema):
    option: int = Field(..., ge=0, le=9)


@router.post("/community/topics/{topic_id}/vote", response=responses(CommunityTopicOut))
def vote(request: HttpRequest, topic_id: ObjectId, body: CommunityVoteIn) -> Any:
    user = current_user(request)
    activity.vote(user, topic_id, body.option)
    return topic_body(activity.visible_topic(user, topic_id), user.pk)


# --- featured guests (大咖站台) ---------------------------------------------------------------------------


class CommunityGuestSessionIn(Schema):
    guest_id: int = Field(..., ge=1, le=2**63 - 1)
    guest_title: str = Field(..., min_length=1, max_length=60)
    title: str = Field(..., min_length=1, max_length=80)
    intro: str = Field("", max_length=4000)
    starts_at: datetime
    ends_at: datetime


class CommunityGuestSessionOut(Schema):
    id: int
    group_id: int
    topic_id: int
    title: str
    guest: str
    guest_title: str
    starts_at: datetime
    ends_at: datetime
    announced_count: int
    answers: list[CommunityReplyOut]


def session_body(session: GuestSession) -> dict[str, Any]:
    return {
        "id": session.pk,
        "group_id": session.group_id,
        "topic_id": session.topic_id,
        "title": session.topic.title,
        "guest": str(session.guest),
        "guest_title": session.guest_title,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "announced_count": session.announced_count,
        "answers": [reply_body(r) for r in guests.answers_of(session.topic)],
    }


@admin_router.post("/community/groups/{group_id}/guest-sessions", response=responses(CommunityGuestSessionOut, 201))
def admin_schedule_guest(request: HttpRequest, group_id: ObjectId, body: CommunityGuestSessionIn) -> Any:
    session = guests.schedule(current_user(request), group_id, **body.dict())
    return Status(201, session_body(session))


@router.get("/community/groups/{group_id}/guest-sessions", response=responses(list[CommunityGuestSessionOut]))
def guest_sessions(request: HttpRequest, group_id: ObjectId) -> Any:
    groups.active_membership(current_user(request).pk, group_id)
    return [session_body(s) for s in guests.sessions_of(group_id)]


# --- group-exclusive prices (群专享价) -----------------------------------------------------------------


class CommunityPriceIn(Schema):
    sku_id: int = Field(..., ge=1, le=2**63 - 1)
    price: int = Field(..., ge=1, le=2**53)
    is_active: bool = True


class CommunityPriceOut(Schema):
    group_id: int
    sku_id: int
    product_id: int
    product_name: str
    list_price: int
    price: int
    is_active: bool


def price_body(row: Any) -> dict[str, Any]:
    return {
        "group_id": row.group_id,
        "sku_id": row.sku_id,
        "product_id": row.sku.product_id,
        "product_name": row.sku.product.name,
        "list_price": row.sku.price,
        "price": row.price,
        "is_active": row.is_active,
    }


@admin_router.post("/community/groups/{group_id}/prices", response=responses(CommunityPriceOut))
def admin_set_price(request: HttpRequest, group_id: ObjectId, body: CommunityPriceIn) -> Any:
    row = offers.set_price(current_user(request), group_id, body.sku_id, body.price, body.is_active)
    return price_body(row)


@router.get("/community/groups/{group_id}/prices", response=responses(list[CommunityPriceOut]))
def group_prices(request: HttpRequest, group_id: ObjectId) -> Any:
    groups.active_membership(current_user(request).pk, group_id)
    return [price_body(row) for row in offers.prices_of(group_id)]


# --- members-only coupons (群专享券) ------------------------------------------------------------------


class CommunityCouponIn(Schema):
    template_id: int = Field(..., ge=1, le=2**63 - 1)


class CommunityCouponOut(Schema):
    group_id: int
    template_id: int
    name: str
    rule: str
    claim_path: str
    left: int


def coupon_body(group_id: int, template: Any) -> dict[str, Any]:
    from jishi.marketing import coupons

    return {
        "group_id": group_id,
        "template_id": template.pk,
        "name": template.name,
        "rule": coupons.describe(template),
        "claim_path": f"/api/v1/coupons/{template.pk}/claim",
        "left": max(template.total_quantity - template.issued, 0),
    }


@admin_router.post("/community/groups/{group_id}/coupons", response=responses(CommunityCouponOut))
def admin_set_coupon(request: HttpRequest, group_id: ObjectId, body: CommunityCouponIn) -> Any:
    from jishi.marketing.models import CouponTemplate

    offers.set_coupon(current_user(request), group_id, body.template_id)
    return coupon_body(group_id, CouponTemplate.objects.get(pk=body.template_id))


@router.get("/community/groups/{group_id}/coupons", response=responses(list[CommunityCouponOut]))
def group_coupons(request: HttpRequest, group_id: ObjectId) -> Any:
    groups.active_membership(current_user(request).pk, group_id)
    return [coupon_body(group_id, t) for t in offers.coupons_of(group_id)]


# --- core fans (核心粉丝) -----------------------------------------------------------------------------


class CommunityFanOut(Schema):
    rank: int
    user_id: int
    nickname: str
    score: int
    badge: str
    parts: dict[str, int]


class CommunityRankingIn(Schema):
    week: date | None = None  # any day of the week; default this week


class CommunityRewardIn(Schema):
    top: int = Field(..., ge=1, le=50)
    points: int = Field(0, ge=0, le=1_000_000)
    coupon_template_id: int | None = Id
    week: date | None = None


class CommunityRewardOut(Schema):
    user_id: int
    rank: int
    score: int
    points: int
    coupon_template_id: int | None


def fan_body(fan: Any) -> dict[str, Any]:
    return {
        "rank": fan.rank,
        "user_id": fan.user_id,
        "nickname": fan.nickname,
        "score": fan.score,
        "badge": fan.badge,
        "parts": dict(fan.parts),
    }


@router.get("/community/groups/{group_id}/ranking", response=responses(list[CommunityFanOut]))
def ranking(request: HttpRequest, group_id: ObjectId, q: Query[CommunityRankingIn]) -> Any:
    groups.active_membership(current_user(request).pk, group_id)
    return [fan_body(f) for f in fans.weekly_ranking(group_id, q.week)]


@admin_router.get("/community/groups/{group_id}/ranking", response=responses(list[CommunityFanOut]))
def admin_ranking(request: HttpRequest, group_id: ObjectId, q: Query[CommunityRankingIn]) -> Any:
    groups.get_group(group_id, active_only=False)
    return [fan_body(f) for f in fans.weekly_ranking(group_id, q.week)]


@admin_router.post("/community/groups/{group_id}/rewards", response=responses(list[CommunityRewardOut]))
def admin_reward_fans(request: HttpRequest, group_id: ObjectId, body: CommunityRewardIn) -> Any:
    rows = fans.reward_top(
        current_user(request),
        group_id,
        top=body.top,
        points=body.points,
        coupon_template_id=body.coupon_template_id,
        week=body.week,
    )
    return [
        {
            "user_id": r.user_id,
            "rank": r.rank,
            "score": r.score,
            "points": r.points,
            "coupon_template_id": r.coupon_template_id,
        }
        for r in rows
    ]
