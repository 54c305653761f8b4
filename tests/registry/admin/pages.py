"""Helpers of the registry admin tests: admin URLs and one record of every registry model."""

from __future__ import annotations

from django.urls import reverse

from registry.models import (
    ApiKey,
    Dataset,
    DataVersion,
    Deployment,
    Membership,
    Model,
    ModelVersion,
    Project,
    Run,
    StageTransition,
    SubjectIndex,
)


def url(model, action: str, *args) -> str:
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}", args=args)


def objects_of(records) -> dict:
    return {
        Project: records.project,
        ApiKey: records.key,
        Membership: records.membership,
        Dataset: records.raw.dataset,
        DataVersion: records.train,
        SubjectIndex: records.subject,
        Run: records.run,
        Model: records.model,
        ModelVersion: records.version,
        StageTransition: records.transition,
        Deployment: records.deployment,
    }


READ_ONLY = [DataVersion, SubjectIndex, Run, StageTransition]


CREATE_THROUGH_SERVICES = [Project, ApiKey, Dataset, Model, ModelVersion, Deployment]
