"""The project's URL map: each context mounts its ``http/urls.py`` under its path prefix."""
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from commerce.shared.http.views import HealthApi, route_not_found

urlpatterns = [
    path("member/", include("commerce.members.http.urls")),
    path("catalog/", include("commerce.search.http.urls")),  # POST /catalog/search
    path("catalog/", include("commerce.catalog.http.urls")),
    path("order/", include("commerce.orders.http.urls")),
    path("delivery/", include("commerce.delivery.http.urls")),
    path("payment/", include("commerce.payments.http.urls")),
    path("health", HealthApi.as_view(), name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
]

# Last: anything unmatched is a problem+json 404, also when DEBUG would show Django's HTML page.
urlpatterns.append(re_path(r"^(?P<path>.*)$", route_not_found))

handler400 = "commerce.shared.http.views.bad_request"
handler403 = "commerce.shared.http.views.permission_denied"
handler404 = "commerce.shared.http.views.page_not_found"
handler500 = "commerce.shared.http.views.server_error"
