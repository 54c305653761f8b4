"""Admin for governance: the decision log (read-only, for everyone), the model version page's lineage, and
erasure requests (received here, traced, executed or rejected by actions, with a printable report),
fairness audits (read-only, with their charts, run from a page of their own), each project's policy, drift and
performance reports, webhooks with their deliveries, and the review queue (a page per queued decision where a
reviewer gives a verdict from the keyboard).

The registry's ModelVersion admin is registered again here with a Lineage section (model_versions), because the
lineage graph reaches decisions and the registry imports nothing from governance.

One module per record family, as in registry/admin; importing them here registers them (Django's autodiscover
imports this package). What a custom page or a change-form section shows is computed in governance.presenters.
"""

from __future__ import annotations

from governance.admin import (  # noqa: F401 - registers the admins
    access,
    contests,
    decisions,
    erasure,
    evidence,
    fairness,
    incidents,
    model_versions,
    policies,
    reports,
    retention,
    reviews,
    webhooks,
)
from registry.admin.audit import audit_target_links

audit_target_links("governance.erasurerequest")
audit_target_links("governance.accessrequest", "governance.evidencepack")
audit_target_links("governance.contest", "governance.incident", "governance.reviewitem", "governance.review")
