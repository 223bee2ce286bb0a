"""The job `pipeline.forecast_snapshot`: keep a weekly photograph of the forecast (see reports)."""

from __future__ import annotations

import datetime as dt

from qianke.pipeline.reports import snapshot_forecast


def forecast_snapshot(*, today: dt.date) -> dict[str, int]:
    """Runs daily; writes at most one snapshot per seven days, so it is weekly and idempotent."""
    return {"rows": snapshot_forecast(today=today)}
