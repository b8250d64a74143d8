"""Search is served under /catalog/ (the contract's path), from the search context."""
from django.urls import path

from commerce.search.http.views import SearchApi

urlpatterns = [path("search", SearchApi.as_view(), name="catalog-search")]
