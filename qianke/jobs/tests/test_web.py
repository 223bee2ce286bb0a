"""/settings/jobs/ and /api/v1/jobs: administrators only; "run now" queues a run for the worker."""

from __future__ import annotations

import pytest

from qianke.core.extensions import SETTINGS, nav_items
from qianke.core.tests.api_helpers import api_for
from qianke.jobs import registry
from qianke.jobs.models import JobRun
from qianke.jobs.registry import Job, daily, register_job
from qianke.jobs.services import job_run, run_due_jobs

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


@pytest.fixture
def jobs(monkeypatch):
    monkeypatch.setattr(registry, "_jobs", {})
    register_job(Job(name="test.ok", func=lambda *, today: {"changed": 3}, schedule=daily(2, 30),
                     description="A test job"))

    def fail(*, today):
        raise ValueError("no such table: nowhere")

    register_job(Job(name="test.fail", func=fail, schedule=daily(3, 0)))


def test_page_lists_jobs_with_their_last_run(client, org, jobs):
    job_run(name="test.ok", force=True)
    job_run(name="test.fail", force=True)
    client.force_login(org.admin)
    response = client.get("/settings/jobs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "test.ok" in html and "A test job" in html and "changed: 3" in html
    assert "02:30" in html and "ValueError: no such table: nowhere" in html


def test_run_now_queues_a_run_for_the_worker(client, org, jobs):
    client.force_login(org.admin)
    response = client.post("/settings/jobs/test.ok/run/")
    assert response.status_code == 302 and response["Location"] == "/settings/jobs/"
    run = JobRun.objects.get()
    assert run.status == "queued" and run.manual and run.requested_by == org.admin
    page = client.get("/settings/jobs/").content.decode()
    assert "Run now" not in page.split('id="job-testok"')[1].split("</tr>")[0]  # pending: no second button
    run_due_jobs()
    run.refresh_from_db()
    assert run.status == "succeeded" and run.counts == {"changed": 3}


def test_page_and_button_are_for_administrators(client, org, jobs):
    client.force_login(org.gm)
    assert client.get("/settings/jobs/").status_code == 403
    assert client.post("/settings/jobs/test.ok/run/").status_code == 403
    assert client.get("/settings/jobs/test.ok/run/").status_code == 405
    assert not JobRun.objects.exists()
    assert "jobs" in [i.key for i in nav_items(org.admin, SETTINGS)]
    assert "jobs" not in [i.key for i in nav_items(org.gm, SETTINGS)]


def test_run_now_for_an_unknown_job_is_404(client, org, jobs):
    client.force_login(org.admin)
    assert client.post("/settings/jobs/nope/run/").status_code == 404


def test_api_lists_jobs(org, jobs, token_for):
    job_run(name="test.ok", force=True)
    response = api_for(org.admin, token_for).get("/jobs")
    assert response.status_code == 200, response.content
    body = {j["name"]: j for j in response.json()}
    assert body["test.ok"]["schedule"] == "daily 02:30"
    assert body["test.ok"]["last_run"]["status"] == "succeeded"
    assert body["test.ok"]["last_run"]["counts"] == {"changed": 3}
    assert body["test.fail"]["last_run"] is None


def test_api_run_queues_and_is_for_administrators(org, jobs, token_for):
    response = api_for(org.admin, token_for).post("/jobs/test.ok/run")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    assert api_for(org.manager, token_for).post("/jobs/test.ok/run").json()["code"] == "permission_denied"
    assert api_for(org.manager, token_for).post("/jobs/test.ok/run").status_code == 403
    assert api_for(org.rep, token_for).get("/jobs").status_code == 403
    unknown = api_for(org.admin, token_for).post("/jobs/nope/run")
    assert unknown.status_code == 404 and "test.ok" in unknown.json()["message"]
    assert JobRun.objects.count() == 1
