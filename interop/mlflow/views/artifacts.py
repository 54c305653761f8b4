"""MLflow's artifact proxy: upload (streamed, written once), download, list; and server-info."""

from __future__ import annotations

import logging
import mimetypes
import re

from django.http import FileResponse

from interop.mlflow.protocol import (
    INVALID_PARAMETER_VALUE,
    REQUEST_LIMIT_EXCEEDED,
    RESOURCE_DOES_NOT_EXIST,
    MlflowError,
    endpoint,
    error_response,
)
from interop.mlflow.views.common import (
    READ,
    WRITE,
    find_logged_model,
    require_role,
)
from registry import services
from registry.models import (
    Artifact,
    Run,
)

log = logging.getLogger(__name__)

_RUN_PATH = re.compile(r"^(?P<exp>\d+)/(?P<run>[0-9a-f]{32})/artifacts/.+")
_MODEL_PATH = re.compile(r"^(?P<exp>\d+)/models/(?P<model>m-[0-9a-f]{32})/artifacts/.+")


@endpoint(methods={"GET", "PUT"}, roles=READ)
def artifact(request, actor, key, message, path: str):
    project = key.project
    path = services.artifact_path_clean(path)
    if request.method == "GET":
        stored = Artifact.objects.filter(project=project, path=path).first()
        if stored is None:
            raise MlflowError(RESOURCE_DOES_NOT_EXIST, f"no artifact at {path}")
        content_type = stored.content_type or mimetypes.guess_type(path)[0] or "application/octet-stream"
        try:
            stored_file = open(services.artifact_file(project.pk, path), "rb")  # noqa: SIM115 (FileResponse closes it)
        except OSError:
            log.error("artifact %s of project %s is recorded but missing from ARTIFACT_ROOT", path, project.pk)
            raise MlflowError(
                RESOURCE_DOES_NOT_EXIST, f"artifact {path} is recorded but its file is missing from storage"
            ) from None
        response = FileResponse(stored_file, content_type=content_type)
        response["Content-Length"] = str(stored.size)
        return response
    require_role(key, WRITE)
    run = model = None
    if match := _MODEL_PATH.match(path):
        model = find_logged_model(project, match.group("model"))
        if str(model.experiment.number) != match.group("exp"):
            raise MlflowError(INVALID_PARAMETER_VALUE, f"{path} is not under the experiment of {model.model_id}")
    elif match := _RUN_PATH.match(path):
        run = Run.objects.select_related("experiment").filter(project=project, run_uuid=match.group("run")).first()
        if run is None or str(run.experiment.number) != match.group("exp"):
            raise MlflowError(
                RESOURCE_DOES_NOT_EXIST, f"no run {match.group('run')} in experiment {match.group('exp')}"
            )
    else:
        raise MlflowError(
            INVALID_PARAMETER_VALUE,
            "artifacts belong to a run (<experiment>/<run id>/artifacts/...) or a logged model "
            "(<experiment>/models/<model id>/artifacts/...)",
        )
    from django.conf import settings

    length = request.META.get("CONTENT_LENGTH") or ""
    if length.isdigit() and int(length) > settings.ARTIFACT_MAX_BYTES:
        return error_response(
            REQUEST_LIMIT_EXCEEDED, f"the file is larger than {settings.ARTIFACT_MAX_BYTES} bytes (ARTIFACT_MAX_BYTES)"
        )
    services.artifact_store(
        actor=actor,
        project=project,
        path=path,
        stream=request,
        content_type=request.content_type or "",
        run=run,
        logged_model=model,
    )
    return {}


@endpoint(methods={"GET"}, roles=READ)
def artifact_list(request, actor, key, message):
    base = message.str("path").strip("/")
    if base:
        base = services.artifact_path_clean(base)
    prefix = f"{base}/" if base else ""
    files: dict[str, dict] = {}
    rows = Artifact.objects.filter(project=key.project, path__startswith=prefix).values_list("path", "size")
    for path, size in rows.iterator():
        rest = path[len(prefix) :]
        head, slash, _ = rest.partition("/")
        if slash:
            files.setdefault(head, {"path": head, "is_dir": True})
        else:
            files[head] = {"path": head, "is_dir": False, "file_size": size}
    return {"files": [files[name] for name in sorted(files)]}


@endpoint(methods={"GET"}, roles=READ)
def server_info(request, actor, key, message):
    return {"multipart_uploads_enabled": False, "multipart_downloads_enabled": False}
