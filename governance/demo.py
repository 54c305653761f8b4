"""The demo that `make run` loads: a real classifier on a real data set, through the real services.

The data is scikit-lego's `arrests` set (Toronto arrests for possession of small quantities of
marijuana: released with a summons or not, colour, sex, age, ...), which ships inside the
package, so nothing is downloaded. The demo records the whole chain the service exists for:

    raw data version -> train / test versions (with subject indexes) -> training run
    -> model version (staging, then production) -> deployment -> one decision per test row,
       each with its sensitive attributes (colour, sex) and its real outcome

Everything is written through the services (registry.services, governance.services), exactly
as the API would write it; nothing here creates model rows directly.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import math
import os
import platform
import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from governance.models import Decision, Incident, Review
from governance.services.contests import contest_receive
from governance.services.decisions import (
    MAX_DECISIONS_PER_REQUEST,
    MAX_OUTCOMES_PER_REQUEST,
    decisions_ingest,
    outcomes_record,
)
from governance.services.fairness import fairness_audit_run
from governance.services.gate import gate_evaluate, model_version_approve
from governance.services.incidents import incident_open
from governance.services.policies import policy_for_project, policy_update
from governance.services.reviews import review_record
from registry import services
from registry.actors import Actor
from registry.hashing import dataframe_schema, dataframe_sha256
from registry.models import Deployment, Model, ModelVersion, Project, Role, Run, RunInput, Stage
from registry.profiles import dataframe_profile

if TYPE_CHECKING:
    import pandas as pd

    from registry.models import DataVersion, ModelVersion

DEMO_PROJECT = "demo"
DEMO_PROJECT_NAME = "Demo: arrests release model"
DATASET = "arrests"
MODEL = "arrests-release"
ROW_ID = "arrest_id"
TARGET = "released"
POSITIVE = "Yes"
NEGATIVE = "No"
SENSITIVE = ("colour", "sex")
CATEGORICAL = ("employed", "citizen")
NUMERIC = ("year", "age", "checks")
FEATURES = CATEGORICAL + NUMERIC
TEST_SIZE = 0.3
DEMO_OFFICER = "demo-officer"  # the person holding the demo's compliance-officer key
SPLIT_SEED = 42
DEPLOYED_DAYS_AGO = 30
SHADOW_DAYS_AGO = 60  # v1 ran in shadow from then
MITIGATED_SHADOW_DAYS_AGO = 45  # v2 from then, until it went live
REVIEW_SAMPLE_RATE = 0.03  # the share of the live model's decisions a person reviews
DEMO_REVIEWERS = ("demo-reviewer", "demo-second-reviewer")  # people (who cannot log in) reviewing decisions


class _Writer(Protocol):
    def write(self, text: str) -> object: ...


@dataclass(frozen=True)
class DemoResult:
    """What demo_load did. `loaded` is False (and the rest empty) when the demo was already there."""

    loaded: bool
    project: Project
    data_versions: list[DataVersion] = field(default_factory=list)
    subjects_indexed: int = 0
    run: Run | None = None
    model_version: ModelVersion | None = None
    deployment: Deployment | None = None
    decisions: int = 0
    outcomes: int = 0
    # role -> raw API key; shown once (only the keys' hashes are stored)
    api_keys: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def demo_load(*, stdout: _Writer | None = None) -> DemoResult:
    """Load the demo project, unless a project with the demo's slug already exists (then do nothing)."""
    existing = Project.objects.filter(slug=DEMO_PROJECT).first()
    if existing is not None:
        return DemoResult(loaded=False, project=existing)
    started = time.monotonic()

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    # Imported here: the service itself never needs them, only this demo does.
    from sklearn.model_selection import train_test_split
    from sklego.datasets import load_arrests

    raw = load_arrests(as_frame=True)
    raw.insert(0, ROW_ID, [f"arrest-{i:05d}" for i in range(len(raw))])
    train, test = train_test_split(raw, test_size=TEST_SIZE, stratify=raw[TARGET], random_state=SPLIT_SEED)
    # Keep the rows of each split in their raw order, so each version's content hash is canonical.
    train, test = train.sort_index(), test.sort_index()

    say(f"training on {len(train)} rows of scikit-lego's arrests data set ({len(raw)} rows) ...")
    pipeline = _fit(train)
    y_test = (test[TARGET] == POSITIVE).to_numpy()
    predicted = pipeline.predict(test[list(FEATURES)])
    scores = pipeline.predict_proba(test[list(FEATURES)])[:, list(pipeline.classes_).index(True)]
    metrics = _metrics(y_test, predicted, scores)
    artifact = _save_artifact(pipeline)

    system = Actor.system()
    with transaction.atomic():
        project = services.project_create(actor=system, slug=DEMO_PROJECT, name=DEMO_PROJECT_NAME)
        # Four eyes compares people: the officer's key is held by a person (who cannot log in), the others are
        # service keys. The policy names the attribute a gating fairness audit covers.
        officer_person, _ = get_user_model().objects.get_or_create(
            username=DEMO_OFFICER, defaults={"email": "", "is_active": True}
        )
        if officer_person.has_usable_password():
            officer_person.set_unusable_password()
            officer_person.save(update_fields=["password"])
        services.membership_set(actor=system, user=officer_person, project=project, role=Role.COMPLIANCE_OFFICER)
        policy_update(
            actor=system,
            policy=policy_for_project(actor=system, project_id=project.pk),
            changes={"required_sensitive_features": ["colour"]},
        )
        keys = {
            role: services.api_key_create(
                actor=Actor.system(),
                project=project,
                role=role,
                name=name,
                owner=officer_person if role == Role.COMPLIANCE_OFFICER else None,
            )
            for role, name in (
                (Role.INGEST, "demo: arrests-release serving"),
                (Role.RISK_ANALYST, "demo: risk analyst"),
                (Role.COMPLIANCE_OFFICER, "demo: compliance officer"),
            )
        }
        ingest = Actor.for_key(keys[Role.INGEST][0])
        officer = Actor.for_key(keys[Role.COMPLIANCE_OFFICER][0])

        dataset = services.dataset_create(
            actor=system,
            project=project,
            name=DATASET,
            contains_personal_data=True,
            legal_basis="public task",
            description=(
                "Arrests in Toronto for simple possession of small quantities of marijuana (carData::Arrests, "
                "as shipped by scikit-lego): whether the arrestee was released with a summons, with colour, sex, "
                "age, year, employment, citizenship and number of police data base checks. "
                f"`{ROW_ID}` is the demo's stable row id (the row's position in the package's file)."
            ),
        )
        raw_version = _register(system, dataset, "2002-raw", raw, storage_uri="package://sklego.datasets/arrests")
        note = (
            f"stratified {1 - TEST_SIZE:.0%}/{TEST_SIZE:.0%} split on `{TARGET}` "
            f"(sklearn train_test_split, random_state={SPLIT_SEED}); rows kept in raw order"
        )
        split_uri = "package://sklego.datasets/arrests#split={}"
        train_version = _register(
            system,
            dataset,
            "train",
            train,
            storage_uri=split_uri.format("train"),
            parents=[raw_version],
            note=note,
            profile=dataframe_profile(train[list(FEATURES)]),  # the drift reference of the model's features
        )
        test_version = _register(
            system, dataset, "test", test, storage_uri=split_uri.format("test"), parents=[raw_version], note=note
        )
        versions = [raw_version, train_version, test_version]
        indexed = sum(
            services.subjects_index(
                actor=Actor.system(), data_version=version, subject_ids=frame[ROW_ID].tolist()
            ).indexed
            for version, frame in zip(versions, (raw, train, test), strict=True)
        )
        say(f"registered {len(versions)} data versions, {indexed} subject index rows")

        run = services.run_register(
            actor=system,
            project=project,
            name="arrests-release: logistic regression without colour and sex",
            params=_params(pipeline),
            metrics=metrics,
            inputs=[
                {"data_version": train_version, "role": RunInput.Role.TRAIN},
                {"data_version": test_version, "role": RunInput.Role.TEST},
            ],
            environment=_environment(),
            source=Run.Source.API,
        )
        model = services.model_create(
            actor=system,
            project=project,
            name=MODEL,
            risk_tier=Model.RiskTier.HIGH,
            description="Predicts whether an arrestee is released with a summons.",
        )
        version = services.model_version_register(
            actor=system,
            model=model,
            run=run,
            artifact_uri=artifact.as_uri(),
            artifact_sha256=_file_sha256(artifact),
            framework=f"scikit-learn {_package_version('scikit-learn')}",
            signature={
                "inputs": {name: str(train[name].dtype) for name in FEATURES},
                "output": {"prediction": [NEGATIVE, POSITIVE], "score": f"probability that {TARGET} == {POSITIVE!r}"},
            },
            intended_use=(
                "Demonstration only: shows how the service records lineage, decisions and outcomes for a "
                "high-risk model. Predicts whether a person arrested for possession of a small quantity of "
                "marijuana is released with a summons."
            ),
            limitations=(
                "Trained on Toronto arrests from 1997-2002; not for any real decision. Colour and sex are not "
                "features, but employment, citizenship and prior police checks can act as proxies for them: "
                "audit selection rates by colour and sex before trusting it. Classes are reweighted "
                "(class_weight='balanced'), so it predicts 'No' far more often than the base rate."
            ),
        )
        # The story the promotion gate tells: v1 runs in shadow, fails its fairness audit by colour and stays
        # in staging; v2, trained with a fairness constraint, passes, is approved by a compliance officer,
        # goes to production and decides.
        now = timezone.now().replace(microsecond=0)
        services.model_version_transition(
            actor=system,
            model_version=version,
            to_stage=Stage.STAGING,
            reason=f"test-split accuracy {metrics['accuracy']:.3f}, ROC AUC {metrics['roc_auc']:.3f}",
        )
        shadow = services.deployment_create(
            actor=system,
            model_version=version,
            environment="production",
            strategy=Deployment.Strategy.SHADOW,
            started_at=now - timedelta(days=SHADOW_DAYS_AGO),
            backfill=True,  # the demo loads months of history at once
        )
        _log_decisions(
            ingest,
            version,
            shadow,
            test,
            predicted,
            scores,
            start=shadow.started_at,
            end=now - timedelta(days=MITIGATED_SHADOW_DAYS_AGO + 1),
        )
        first_audit = fairness_audit_run(
            actor=officer, model_version=version, sensitive_features=["colour"], positive_label=POSITIVE
        )
        refused = [
            c["message"]
            for c in gate_evaluate(actor=system, model_version=version, to_stage=Stage.PRODUCTION)["checks"]
            if not c["passed"]
        ]
        say(
            f"{version}: fairness audit by colour {'passed' if first_audit.passed else 'failed'}; "
            f"the promotion gate refuses it: {'; '.join(refused)}"
        )

        mitigated, mitigated_metrics, predicted_2, scores_2 = _fit_mitigated(train, test)
        run_2 = services.run_register(
            actor=system,
            project=project,
            name="arrests-release: exponentiated gradient under equalized odds by colour",
            params=_mitigation_params(),
            metrics=mitigated_metrics,
            inputs=[
                {"data_version": train_version, "role": RunInput.Role.TRAIN},
                {"data_version": test_version, "role": RunInput.Role.TEST},
            ],
            environment={**_environment(), "fairlearn": _package_version("fairlearn")},
            source=Run.Source.API,
        )
        artifact_2 = _save_artifact(mitigated, name=f"{MODEL}-v2")
        version_2 = services.model_version_register(
            actor=system,
            model=model,
            run=run_2,
            artifact_uri=artifact_2.as_uri(),
            artifact_sha256=_file_sha256(artifact_2),
            framework=f"fairlearn {_package_version('fairlearn')} over scikit-learn {_package_version('scikit-learn')}",
            signature=version.signature,
            intended_use=version.intended_use,
            limitations=(
                "Trained on Toronto arrests from 1997-2002; not for any real decision. Mitigated for equalized "
                "odds by colour (fairlearn ExponentiatedGradient, a randomized mixture of logistic regressions), "
                "at a cost in accuracy; not mitigated for sex, where its equalized odds difference is larger."
            ),
        )
        services.model_version_transition(
            actor=system,
            model_version=version_2,
            to_stage=Stage.STAGING,
            reason=f"mitigated: test-split accuracy {mitigated_metrics['accuracy']:.3f}",
        )
        services.deployment_end(
            actor=system, deployment=shadow, ended_at=now - timedelta(days=MITIGATED_SHADOW_DAYS_AGO), backfill=True
        )
        shadow_2 = services.deployment_create(
            actor=system,
            model_version=version_2,
            environment="production",
            strategy=Deployment.Strategy.SHADOW,
            started_at=now - timedelta(days=MITIGATED_SHADOW_DAYS_AGO),
            backfill=True,
        )
        _log_decisions(
            ingest,
            version_2,
            shadow_2,
            test,
            predicted_2,
            scores_2,
            start=shadow_2.started_at,
            end=now - timedelta(days=DEPLOYED_DAYS_AGO + 1),
        )
        second_audit = fairness_audit_run(
            actor=officer, model_version=version_2, sensitive_features=["colour"], positive_label=POSITIVE
        )
        say(f"{version_2}: fairness audit by colour {'passed' if second_audit.passed else 'failed'}")
        model_version_approve(
            actor=officer,
            model_version=version_2,
            to_stage=Stage.PRODUCTION,
            comment="demo: fairness audit by colour passed; model card reviewed",
        )
        services.model_version_transition(
            actor=system,
            model_version=version_2,
            to_stage=Stage.PRODUCTION,
            reason="demo: passed the promotion gate for the release-with-summons pilot",
        )
        version, run = version_2, run_2
        deployment = services.deployment_create(
            actor=system,
            model_version=version,
            environment="production",
            strategy=Deployment.Strategy.DIRECT,
            started_at=now - timedelta(days=DEPLOYED_DAYS_AGO),
            backfill=True,
        )

        # Human review (AI Act Art. 14): a sampled share of the live model's decisions waits for a person.
        policy_update(
            actor=system,
            policy=policy_for_project(actor=system, project_id=project.pk),
            changes={"review_risk_tiers": [Model.RiskTier.HIGH], "review_sample_rate": REVIEW_SAMPLE_RATE},
        )
        decisions, outcomes = _log_decisions(
            ingest, version, deployment, test, predicted_2, scores_2, start=deployment.started_at, end=now
        )
        say(f"logged {decisions} decisions of {version} with {outcomes} outcomes")
        _contest_and_review(system, officer, project, version, now)
        _incident_on(officer, project, version_1=first_audit.model_version, shadow=shadow, now=now)

    return DemoResult(
        loaded=True,
        project=project,
        data_versions=versions,
        subjects_indexed=indexed,
        run=run,
        model_version=version,
        deployment=deployment,
        decisions=decisions,
        outcomes=outcomes,
        api_keys={role: raw_key for role, (_, raw_key) in keys.items()},
        seconds=time.monotonic() - started,
    )


def _person(project: Project, username: str, role: str):
    """A person of the story (no password: nobody logs in as them), holding `role` in the project."""
    user, _ = get_user_model().objects.get_or_create(username=username, defaults={"email": "", "is_active": True})
    if user.has_usable_password():
        user.set_unusable_password()
        user.save(update_fields=["password"])
    services.membership_set(actor=Actor.system(), user=user, project=project, role=role)
    return Actor.for_user(user)


def _contest_and_review(system: Actor, officer: Actor, project: Project, version: ModelVersion, now) -> None:
    """The story of GDPR Art. 22(3): a person refused release with a summons contests the decision; it heads the
    review queue; a reviewer overrides it and a second reviewer agrees (four eyes), which decides the contest."""
    refused = (
        Decision.objects.filter(model_version=version, prediction=NEGATIVE, occurred_at__gte=now - timedelta(days=7))
        .order_by("occurred_at")
        .first()
    )
    if refused is None:
        return
    contest = contest_receive(
        actor=officer,
        project=project,
        reference="DEMO-APPEAL-1",
        statement="I was employed at the time of the arrest; the record says otherwise.",
        model_version=version,
        request_id=refused.request_id,
        received_at=now - timedelta(days=3),
    )
    first, second = (_person(project, name, Role.REVIEWER) for name in DEMO_REVIEWERS)
    review_record(
        actor=first,
        item=contest.review_item,
        verdict=Review.Verdict.OVERRIDDEN,
        final_decision=POSITIVE,
        reason="Employment confirmed by the employer's letter: the release criteria are met.",
    )
    review_record(
        actor=second,
        item=contest.review_item,
        verdict=Review.Verdict.OVERRIDE_AGREED,
        reason="Agree: the letter is on file.",
    )


def _incident_on(officer: Actor, project: Project, *, version_1: ModelVersion, shadow: Deployment, now) -> None:
    """The story of AI Act Art. 73: v1's shadow decisions are found to have refused release by colour; an
    incident is opened on v1 (its clock running, v1 frozen in staging) three days after it became known."""
    incident_open(
        actor=officer,
        project=project,
        title="v1 refused release with a summons by colour during its shadow run",
        description=(
            "The fairness audit of v1's shadow decisions shows selection rates by colour far below the "
            "four-fifths rule. Had v1 gone live, people would have been kept in custody for their colour. "
            "Opened to record the analysis and the report to the authority."
        ),
        category=Incident.Category.OTHER,
        aware_at=now - timedelta(days=3),
        model_versions=[version_1],
        deployments=[shadow],
        affected_after=shadow.started_at,
        affected_before=now - timedelta(days=MITIGATED_SHADOW_DAYS_AGO),
    )


def _pipeline():
    """The unfitted pipeline: one-hot categoricals, scaled numerics, a class-balanced logistic regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pipeline = Pipeline(
        [
            (
                "prepare",
                ColumnTransformer(
                    [
                        ("categorical", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL)),
                        ("numeric", StandardScaler(), list(NUMERIC)),
                    ]
                ),
            ),
            ("classify", LogisticRegression(class_weight="balanced", max_iter=1000)),
        ]
    )
    return pipeline


def _fit(train: pd.DataFrame):
    # Colour and sex are deliberately not features: they are logged as `sensitive` for fairness audits.
    return _pipeline().fit(train[list(FEATURES)], train[TARGET] == POSITIVE)


MITIGATION_BOUND = 0.005  # with seed 0: demographic parity ratio 0.86, equalized odds difference 0.08 by colour
MITIGATION_SEED = 0


def _fit_mitigated(train: pd.DataFrame, test: pd.DataFrame):
    """The same pipeline trained under an equalized-odds constraint by colour (fairlearn's reduction).

    Colour is used in training only; predictions need the features alone. Returns the fitted mitigator,
    its test metrics, predictions (the randomized classifier's, seeded) and scores (the mixture's
    probability of a positive).
    """
    from fairlearn.reductions import EqualizedOdds, ExponentiatedGradient

    mitigator = ExponentiatedGradient(
        _pipeline(),
        constraints=EqualizedOdds(difference_bound=MITIGATION_BOUND),
        sample_weight_name="classify__sample_weight",
    )
    mitigator.fit(train[list(FEATURES)], train[TARGET] == POSITIVE, sensitive_features=train["colour"])
    x_test = test[list(FEATURES)]
    predicted = mitigator.predict(x_test, random_state=MITIGATION_SEED).astype(bool)
    scores = sum(
        weight * predictor.predict_proba(x_test)[:, list(predictor.classes_).index(True)]
        for weight, predictor in zip(mitigator.weights_, mitigator.predictors_, strict=True)
        if weight > 0
    )
    return mitigator, _metrics((test[TARGET] == POSITIVE).to_numpy(), predicted, scores), predicted, scores


def _mitigation_params() -> dict[str, object]:
    return {
        "estimator": "fairlearn.reductions.ExponentiatedGradient",
        "constraints": "EqualizedOdds",
        "difference_bound": MITIGATION_BOUND,
        "sensitive_features": "colour (training only)",
        "base_estimator": "the v1 pipeline (logistic regression, class_weight='balanced')",
        "predict.random_state": MITIGATION_SEED,
        "features": ",".join(FEATURES),
        "split.test_size": TEST_SIZE,
        "split.random_state": SPLIT_SEED,
        "split.stratify": TARGET,
    }


def _metrics(y_true, predicted, scores) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    return {
        "accuracy": float(accuracy_score(y_true, predicted)),
        "roc_auc": float(roc_auc_score(y_true, scores)),
        "f1": float(f1_score(y_true, predicted)),
    }


def _json_safe(value: object) -> object:
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return repr(value)


def _params(pipeline) -> dict[str, object]:
    """The final estimator's parameters, flattened to JSON scalars, and how the data was split."""
    estimator = pipeline[-1]
    params: dict[str, object] = {"estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}"}
    params.update({name: _json_safe(value) for name, value in sorted(estimator.get_params(deep=True).items())})
    params.update(
        {
            "features": ",".join(FEATURES),
            "split.test_size": TEST_SIZE,
            "split.random_state": SPLIT_SEED,
            "split.stratify": TARGET,
        }
    )
    return params


def _package_version(name: str) -> str:
    return importlib.metadata.version(name)


def _environment() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        **{name: _package_version(name) for name in ("scikit-learn", "pandas", "numpy", "scikit-lego")},
    }


def _save_artifact(pipeline, *, name: str = MODEL) -> Path:
    import joblib

    directory = Path(settings.ARTIFACT_ROOT) / "demo"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.joblib"
    partial = path.with_suffix(".joblib.partial")
    joblib.dump(pipeline, partial)
    os.replace(partial, path)
    return path.resolve()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _register(
    system: Actor, dataset, version: str, frame: pd.DataFrame, *, storage_uri: str, parents=(), note="", profile=None
):
    return services.data_version_register(
        actor=system,
        dataset=dataset,
        version=version,
        content_sha256=dataframe_sha256(frame),
        row_count=len(frame),
        schema=dataframe_schema(frame),
        storage_uri=storage_uri,
        parents=parents,
        transformation=note,
        profile=profile,
    )


def _log_decisions(
    ingest: Actor, version, deployment, test: pd.DataFrame, predicted, scores, *, start, end
) -> tuple[int, int]:
    """Log one decision per test row, at times spread over the deployment's life, then its outcome.

    The arrest id goes in only as `subject_id` (pseudonymised by the service). Request ids are random
    and the rows are logged in a random order: a request id or a timestamp derived from the arrest id
    (or from its position in the published file) would let anyone with the data set undo that.
    """
    import numpy as np

    rng = np.random.default_rng(secrets.randbits(64))
    span = (end - start).total_seconds()
    offsets = np.sort(rng.uniform(60, span - 60, size=len(test)))
    # Outcomes come 2 to 6 days later; for the last days' decisions, at some point before now.
    outcome_delays = rng.uniform(2 * 86400, 6 * 86400, size=len(test))
    outcome_shares = rng.uniform(0.2, 0.9, size=len(test))
    decisions: list[dict] = []
    outcomes: list[dict] = []
    rows = test.to_dict("records")
    timing = zip(rng.permutation(len(rows)), offsets, outcome_delays, outcome_shares, strict=True)
    for position, offset, delay, share in timing:
        row = rows[position]
        request_id = f"req-{secrets.token_hex(8)}"
        occurred_at = start + timedelta(seconds=float(offset))
        outcome_at = occurred_at + min(timedelta(seconds=float(delay)), (end - occurred_at) * float(share))
        decisions.append(
            {
                "model_version": version.pk,
                "deployment": deployment.pk,
                "request_id": request_id,
                "subject_id": row[ROW_ID],
                "features": {name: _json_safe(row[name]) for name in FEATURES},
                "sensitive": {name: _json_safe(row[name]) for name in SENSITIVE},
                "prediction": POSITIVE if predicted[position] else NEGATIVE,
                "score": float(scores[position]),
                "occurred_at": occurred_at.isoformat(),
            }
        )
        outcomes.append(
            {
                "model_version": version.pk,
                "request_id": request_id,
                "outcome": _json_safe(row[TARGET]),
                "outcome_at": outcome_at.isoformat(),
            }
        )
    logged = recorded = 0
    for first in range(0, len(decisions), MAX_DECISIONS_PER_REQUEST):
        logged += decisions_ingest(actor=ingest, items=decisions[first : first + MAX_DECISIONS_PER_REQUEST]).accepted
    for first in range(0, len(outcomes), MAX_OUTCOMES_PER_REQUEST):
        recorded += outcomes_record(actor=ingest, items=outcomes[first : first + MAX_OUTCOMES_PER_REQUEST]).updated
    return logged, recorded
