"""REST API of the pool app: parse → call a service/selector → return a schema."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["public pool"])
