"""The registry's model version page registered again with a Lineage section: the lineage graph reaches
decisions, and the registry imports nothing from governance."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote

from governance.presenters.lineage import model_version_lineage
from registry.admin.models import ModelVersionAdmin
from registry.models import ModelVersion

admin.site.unregister(ModelVersion)


@admin.register(ModelVersion)
class ModelVersionLineageAdmin(ModelVersionAdmin):
    change_form_template = "admin/governance/modelversion_change_form.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        version = self.get_object(request, unquote(object_id))
        if version is not None and self.has_view_or_change_permission(request, version):
            extra["lineage"] = model_version_lineage(version)
        return super().change_view(request, object_id, form_url, extra)
