"""Storefront pages (placeholder until the shell lands)."""

from django.http import HttpRequest, HttpResponse


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("集市")
