"""``jishi seed [--orders N]``: load the demo shop; safe to run again."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jishi.demo.seed import seed_demo, seed_orders


class Command(BaseCommand):
    help = "Load the demo shop (categories, products, stock, images, people); safe to re-run."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--orders", type=int, default=0, metavar="N", help="also place N demo orders")

    def handle(self, *args: Any, **options: Any) -> None:
        orders: int = options["orders"]
        if orders < 0:
            raise CommandError("--orders must be 0 or more")
        seed_demo(stdout=self.stdout)
        if orders:
            placed = seed_orders(orders, stdout=self.stdout)
            self.stdout.write(f"{placed} demo orders placed")
