from django.urls import path
from rest_framework.routers import DefaultRouter

from governance.api import views

router = DefaultRouter(trailing_slash=True)
router.register("decisions", views.DecisionViewSet, basename="decision")

urlpatterns = [path("lineage/", views.LineageView.as_view(), name="lineage"), *router.urls]
