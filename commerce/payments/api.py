"""Placeholder until the payments context lands (issue #6): the signature orders codes against."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UsableMethod:
    method_id: str
    brand: str
    last4: str


def usable_method(buyer_id: str, method_id: str) -> UsableMethod | None:
    raise NotImplementedError("the payments context is built by issue #6")
