"""Data drift: a window of logged decisions' features against the training data version's profile.

Per feature: the population stability index (PSI) over the profile's bins (numeric: its quantile
bins; categorical: its categories), the Jensen-Shannon distance (base 2, so within 0..1) of the
same two distributions, and for numerics the two-sample Kolmogorov-Smirnov statistic and p-value
(scipy.stats.ks_2samp) of the window's values against the profile's stored sample. A feature has
drifted when its PSI exceeds the project policy's `max_psi`.

PSI = sum((a - e) * ln(a / e)) over the bins, with e and a the reference and window shares, each
floored at 1e-4 so that an empty bin counts as rare rather than infinitely surprising.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from django.db import transaction
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp

from governance.alerts import alert_raise
from governance.fairness import policy_for
from governance.models import Decision, DriftReport
from registry.actors import Actor
from registry.audit import AuditEventType as Event
from registry.audit import audit_append
from registry.errors import field_error
from registry.models import DataVersion, ModelVersion, RunInput
from registry.profiles import OTHER, PROFILE_FORMAT, bin_counts

PSI_FLOOR = 1e-4


def psi(reference_counts, window_counts) -> float:
    e = np.asarray(reference_counts, dtype=float)
    a = np.asarray(window_counts, dtype=float)
    e = np.maximum(e / e.sum(), PSI_FLOOR)
    a = np.maximum(a / a.sum(), PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def js_distance(reference_counts, window_counts) -> float:
    e = np.asarray(reference_counts, dtype=float)
    a = np.asarray(window_counts, dtype=float)
    return float(jensenshannon(e / e.sum(), a / a.sum(), base=2))


def reference_data_version(model_version: ModelVersion) -> DataVersion:
    """The version's training data version that carries a profile."""
    candidates = DataVersion.objects.filter(
        run_links__run_id=model_version.run_id, run_links__role=RunInput.Role.TRAIN, profile__isnull=False
    ).order_by("pk")
    for candidate in candidates:
        if isinstance(candidate.profile, dict) and candidate.profile.get("format") == PROFILE_FORMAT:
            return candidate
    raise field_error(
        "model_version",
        f"the training data of model version {model_version.pk} has no profile ({PROFILE_FORMAT}) to compare with",
    )


def window_features(model_version_id: int, start: datetime, end: datetime, names: list[str]) -> tuple[int, dict]:
    """The window's feature values, by feature name (erased decisions left out)."""
    values: dict[str, list] = {name: [] for name in names}
    rows = 0
    queryset = Decision.objects.filter(
        model_version_id=model_version_id, occurred_at__gte=start, occurred_at__lt=end, erased_at__isnull=True
    ).values_list("features", flat=True)
    for features in queryset.iterator(chunk_size=10_000):
        rows += 1
        for name in names:
            value = features.get(name)
            if value is not None:
                values[name].append(value)
    return rows, values


def compare_feature(reference: dict, window_values: list, *, max_psi: float) -> dict:
    if not window_values:
        return {"kind": reference["kind"], "window_count": 0, "status": "absent from the window", "drifted": False}
    if reference["kind"] == "numeric":
        numbers = np.array(
            [v for v in window_values if isinstance(v, (int, float)) and not isinstance(v, bool)], dtype=float
        )
        if numbers.size == 0 or not reference["bin_counts"]:
            return {"kind": "numeric", "window_count": 0, "status": "no numeric values in the window", "drifted": False}
        counts = bin_counts(numbers, reference["bin_edges"])
        ks = ks_2samp(np.asarray(reference["sample"], dtype=float), numbers)
        result = {
            "kind": "numeric",
            "window_count": int(numbers.size),
            "reference_count": reference["count"],
            "bin_edges": reference["bin_edges"],
            "reference_bins": reference["bin_counts"],
            "window_bins": [int(c) for c in counts],
            "psi": psi(reference["bin_counts"], counts),
            "js_distance": js_distance(reference["bin_counts"], counts),
            "ks_statistic": float(ks.statistic),
            "ks_pvalue": float(ks.pvalue),
            "window_mean": float(numbers.mean()),
            "reference_mean": reference.get("mean"),
        }
    else:
        known = reference["frequencies"]
        window: dict[str, int] = {}
        for value in window_values:
            key = str(value)
            key = key if key in known else (OTHER if OTHER in known else key)
            window[key] = window.get(key, 0) + 1
        categories = sorted(set(known) | set(window))
        ref = [known.get(c, 0) for c in categories]
        win = [window.get(c, 0) for c in categories]
        result = {
            "kind": "categorical",
            "window_count": len(window_values),
            "reference_count": reference["count"],
            "categories": categories,
            "reference_frequencies": ref,
            "window_frequencies": win,
            "psi": psi(ref, win),
            "js_distance": js_distance(ref, win),
            "new_categories": [c for c in categories if c not in known],
        }
    result["drifted"] = result["psi"] > max_psi
    return result


def drift_report_run(
    *, actor: Actor, model_version: ModelVersion, window_start: datetime, window_end: datetime
) -> DriftReport:
    if window_end <= window_start:
        raise field_error("window_end", "must be after window_start")
    reference = reference_data_version(model_version)
    policy = policy_for(model_version.project_id)
    columns = reference.profile["columns"]
    rows, values = window_features(model_version.pk, window_start, window_end, list(columns))
    if rows == 0:
        raise field_error("window_start", "no decisions of this model version in this window")
    features = {name: compare_feature(columns[name], values[name], max_psi=policy.max_psi) for name in columns}
    drifted = sorted(name for name, result in features.items() if result["drifted"])
    with transaction.atomic():
        report = DriftReport.objects.create(
            project_id=model_version.project_id,
            model_version=model_version,
            reference_data_version=reference,
            window_start=window_start,
            window_end=window_end,
            row_count=rows,
            features=features,
            drifted=bool(drifted),
            drifted_features=drifted,
            policy=policy.snapshot(),
            created_by_user=actor.user if actor.user is not None and actor.user.pk else None,
            created_by_key=actor.api_key,
        )
        audit_append(
            actor=actor,
            event_type=Event.DRIFT_REPORTED,
            target=report,
            after={
                "model_version": model_version.pk,
                "reference": reference.pk,
                "rows": rows,
                "drifted": drifted,
                "psi": {name: result.get("psi") for name, result in features.items()},
            },
        )
        if drifted:
            alert_raise(
                actor=actor,
                project_id=model_version.project_id,
                alert_type="drift.detected",
                target=report,
                payload={
                    "model_version": model_version.pk,
                    "drift_report": report.pk,
                    "features": drifted,
                    "psi": {name: features[name]["psi"] for name in drifted},
                },
            )
    return report
