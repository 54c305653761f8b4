"""Saving a model artifact to disk and hashing it (sha256), for `ModelVersion.artifact_uri`/`artifact_sha256`."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .hashing import file_sha256

ENV_ARTIFACT_DIR = "GOVERNANCE_ARTIFACT_DIR"
DEFAULT_ARTIFACT_DIR = "./governance-artifacts"
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Artifact:
    path: Path
    sha256: str

    @property
    def uri(self) -> str:
        return self.path.as_uri()


def artifact_dir(directory: str | os.PathLike | None = None) -> Path:
    return Path(directory or os.environ.get(ENV_ARTIFACT_DIR) or DEFAULT_ARTIFACT_DIR).expanduser().resolve()


def save_model(estimator: Any, name: str, *, directory: str | os.PathLike | None = None) -> Artifact:
    """Dump the estimator with joblib (pickle when joblib is missing) and hash the file.

    The file name holds the model name and a timestamp; it is written under a temporary name and
    renamed, so a half-written file never carries the final name.
    """
    target_dir = artifact_dir(directory)
    target_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{UNSAFE.sub('-', name).strip('-') or 'model'}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    try:
        import joblib

        path, dump = target_dir / f"{stem}.joblib", joblib.dump
    except ImportError:  # pragma: no cover - scikit-learn depends on joblib
        import pickle

        def dump(obj: Any, fh: Any) -> None:
            with open(fh, "wb") as out:
                pickle.dump(obj, out, protocol=pickle.HIGHEST_PROTOCOL)

        path = target_dir / f"{stem}.pkl"
    counter = 1
    while path.exists():
        path = path.with_name(f"{stem}-{counter}{path.suffix}")
        counter += 1
    partial = path.with_name(path.name + ".partial")
    dump(estimator, str(partial))
    os.replace(partial, path)
    return Artifact(path=path, sha256=file_sha256(str(path)))
