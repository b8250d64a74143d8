"""Placeholder until the delivery context lands (issue #6): the signature orders codes against."""
from __future__ import annotations


def address_snapshot(buyer_id: str, address_id: str) -> dict | None:
    raise NotImplementedError("the delivery context is built by issue #6")
