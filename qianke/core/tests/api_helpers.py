"""A small JSON client for API tests: authenticates with a personal API token."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

BASE = "/api/v1"


class ApiClient:
    def __init__(self, token: str | None = None, *, language: str = "en", client: Client | None = None):
        self.client = client or Client()
        self.headers = {"Accept-Language": language}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, params: dict[str, Any] | None = None):
        return self.client.get(BASE + path, params or {}, headers=self.headers)

    def post(self, path: str, body: Any = None):
        return self.client.post(BASE + path, json.dumps(body if body is not None else {}),
                                content_type="application/json", headers=self.headers)

    def patch(self, path: str, body: Any):
        return self.client.patch(BASE + path, json.dumps(body), content_type="application/json",
                                 headers=self.headers)


def api_for(user, token_for) -> ApiClient:
    return ApiClient(token_for(user))
