"""Fixtures shared by the core tests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

# The clock of the demo-load tests: the load takes `now`, the passes after it the time of the moment.
DEMO_NOW = dt.datetime(2026, 3, 9, 4, 5, 6, tzinfo=dt.UTC)


@pytest.fixture
def demo_home(settings, tmp_path, monkeypatch):
    """A QIANKE_HOME of its own, the leads taxonomy present and the clock frozen at DEMO_NOW."""
    from qianke.leads.models import CollectionMethod, InformationSource, Source
    from qianke.leads.seed import create_taxonomy

    settings.QIANKE_HOME = tmp_path
    if not Source.objects.exists():  # the migrations' rows, gone after an earlier test's flush
        create_taxonomy(Source, InformationSource, CollectionMethod)
    monkeypatch.setattr(timezone, "now", lambda: DEMO_NOW)
    return tmp_path
