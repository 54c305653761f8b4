"""OpenLineage's route: `POST /api/v1/lineage`, without a trailing slash (the lineage query is `lineage/`)."""

from django.urls import path

from interop.openlineage.views import LineageEventView

urlpatterns = [path("api/v1/lineage", LineageEventView.as_view(), name="openlineage-events")]
