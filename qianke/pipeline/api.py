"""REST API of the pipeline app: parse → call a service/selector → return a schema."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["deals and sales processes"])
