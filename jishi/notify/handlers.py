"""Outbox subscribers that turn other apps' events into inbox notices (each once per event)."""

from __future__ import annotations
