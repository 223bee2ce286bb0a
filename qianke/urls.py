from django.contrib import admin
from django.urls import include, path

from qianke.api import api
from qianke.core.views import healthz
from qianke.customers.lifecycle_views import funnel_report

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("reports/funnel/", funnel_report, name="reports_funnel"),
    path("", include("qianke.accounts.urls")),
    path("", include("qianke.customers.urls")),
    path("", include("qianke.activities.urls")),
    path("", include("qianke.leads.urls")),
    path("", include("qianke.jobs.urls")),
    path("", include("qianke.qualification.urls")),
    path("", include("qianke.pool.urls")),
    path("", include("qianke.pipeline.urls")),
    path("", include("qianke.dataio.urls")),
    path("", include("qianke.dedupe.urls")),
]
