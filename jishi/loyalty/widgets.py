"""Console widgets for loyalty rules a merchant edits as a table, not as JSON."""

from __future__ import annotations

import json
from typing import Any

from django import forms

MAX_TIERS = 31
BLANK_ROWS = 3


def _number(text: str) -> int | str | None:
    if not text:
        return None
    return int(text) if text.isdigit() else text


class TierTableWidget(forms.Widget):
    """Sign-in tiers as rows of (第 N 天, 积分): filled rows are the tiers, blank rows are ignored.

    The value posted back is the list of ``{"day", "points"}`` the service validates; a row with
    only one of the two filled comes back as it is, so the service's message names the problem.
    """

    template_name = "loyalty/widgets/tier_table.html"

    def _rows(self, value: Any) -> list[dict[str, Any]]:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = []
        rows = [t for t in value if isinstance(t, dict)] if isinstance(value, list) else []
        blanks = max(0, min(BLANK_ROWS, MAX_TIERS - len(rows)))
        return [*rows, *({"day": "", "points": ""} for _ in range(blanks))]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["rows"] = self._rows(value)
        return context

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        tiers: list[dict[str, Any]] = []
        for i in range(MAX_TIERS + BLANK_ROWS):
            day, points = (data.get(f"{name}_{i}_{part}", "").strip() for part in ("day", "points"))
            if not day and not points:
                continue
            tiers.append({"day": _number(day), "points": _number(points)})
        return json.dumps(tiers)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return not any(key.startswith(f"{name}_") for key in data)
