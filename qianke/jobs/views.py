"""Settings page for administrators: the background jobs, their last runs, and "run now"."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from qianke.core.views import ui_view
from qianke.jobs.selectors import job_overview_for
from qianke.jobs.services import job_enqueue


@ui_view
def job_list(request):
    return render(request, "jobs/job_list.html", {"jobs": job_overview_for(user=request.user, recent=5)})


@require_POST
@ui_view
def job_run_now(request, name: str):
    """Queues a manual run; the worker started by `qianke serve` picks it up within seconds."""
    run = job_enqueue(actor=request.user, name=name)
    messages.success(request, _("“%(name)s” is queued; the background worker runs it within a few seconds. "
                                "Reload this page to see the result.") % {"name": run.name})
    return redirect("jobs")
