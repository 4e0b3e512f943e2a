"""Console: stores with their hours, staff and slots; store orders; transfers, counts, counter sales."""

from __future__ import annotations
