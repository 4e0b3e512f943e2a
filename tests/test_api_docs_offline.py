"""/api/v1/docs works without internet: Swagger UI comes from Django Ninja's bundled static files."""

from __future__ import annotations

import re

import pytest
from django.test import Client


@pytest.mark.django_db
def test_docs_page_loads_swagger_from_this_server_only(client: Client) -> None:
    response = client.get("/api/v1/docs")

    body = response.content.decode()
    assert response.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in body
    assert "/static/ninja/swagger-ui.css" in body
    assert re.findall(r"(?:src|href)=\"(https?:)?//", body) == []
    for asset in ("/static/ninja/swagger-ui-bundle.js", "/static/ninja/swagger-ui.css"):
        assert client.get(asset).status_code == 200
