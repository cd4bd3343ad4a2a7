from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from oneforone.api import api
from oneforone.impact.scenario_views import calculator
from oneforone.registry.device_views import verify_device

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # The djangojs catalogue of the active language (LOCALE_PATHS), for the scripts that write
    # text; naming one app keeps the other apps' (the admin's) script catalogues out.
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["oneforone.core"]),
        name="javascript-catalog",
    ),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", api.urls),
    path("verify/device", verify_device, name="verify-device"),
    path("methodology/", include("oneforone.impact.urls")),
    path("calculator/", calculator, name="calculator"),
    path("", include("oneforone.reporting.urls")),
    path("", include("oneforone.accounts.urls")),
    path("partner/webhooks/", include("oneforone.webhooks.urls")),
    path("partner/", include("oneforone.partners.urls")),
    path("conflicts/", include("oneforone.partners.conflict_urls")),
    path("collection/", include("oneforone.collection.urls")),
    # Before shipments/: a consignment reference could read "notifications".
    path("shipments/notifications/", include("oneforone.shipments.notification_urls")),
    # Before the consignments: "deadlines" would otherwise be read as a consignment reference.
    path("shipments/deadlines/", include("oneforone.shipments.deadline_urls")),
    path("shipments/", include("oneforone.shipments.urls")),
    path("recycling/", include("oneforone.recycling.urls")),
    path("", include("oneforone.registry.urls")),
    path("operator/registry/", include("oneforone.registry.operator_urls")),
    path("operator/overview/", include("oneforone.reporting.operator_urls")),
]
