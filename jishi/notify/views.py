"""The tracked campaign link: a member's open is counted once, then they land on the campaign's page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils import timezone

from jishi.core.sql import insert_once

from .models import Campaign, CampaignClick


def campaign_click(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    if request.user.is_authenticated:
        insert_once(
            CampaignClick,
            {"campaign": campaign.pk, "user": request.user.pk, "clicked_at": timezone.now()},
            conflict=["campaign", "user"],
        )
    return HttpResponseRedirect(campaign.link or "/")
