"""The evaluations of the project's LLM components in a documentation pack's validation section (registered with
governance.evidence.contributors in LlmopsConfig.ready, so governance never imports llmops).

For each prompt version and evaluation dataset, the latest evaluation run up to the pack's moment: the prompt
version (its content hash and the labels on it), the dataset and its size, the provider and model, and per evaluator
its pass rate and mean score; citing the run, the prompt version and the dataset, each with its audit events."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count

from governance.evidence.contributors import EvidenceStatement
from llmops.models import EvaluationRun

MAX_EVALUATIONS = 20  # prompt version and dataset pairs stated, the most recently evaluated first
SCANNED_RUNS = 200


def _percent(value: object) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) else "n/a"


def _score(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, (int, float)) else "n/a"


class LLMEvaluationEvidence:
    name = "llmops"

    def statements(self, *, project_id: int, now: datetime) -> list[EvidenceStatement]:
        runs = (
            EvaluationRun.objects.filter(project_id=project_id, created_at__lte=now)
            .select_related("prompt_version__template", "dataset")
            .prefetch_related("prompt_version__labels")
            .annotate(items=Count("results"))
            .order_by("-created_at", "-id")[:SCANNED_RUNS]
        )
        latest: dict[tuple[int, int], EvaluationRun] = {}
        for run in runs:
            if len(latest) >= MAX_EVALUATIONS:
                break
            latest.setdefault((run.prompt_version_id, run.dataset_id), run)
        chosen = sorted(
            latest.values(),
            key=lambda r: (r.prompt_version.template.name, r.prompt_version.version, r.dataset.name),
        )
        return [self._statement(run) for run in chosen]

    def _statement(self, run: EvaluationRun) -> EvidenceStatement:
        version = run.prompt_version
        labels = sorted(label.name for label in version.labels.all())
        scores = "; ".join(
            f"{name} ({values.get('kind', '?')}): pass rate {_percent(values.get('pass_rate'))}, mean "
            f"{_score(values.get('mean'))} over {values.get('count', 0)} item{'s' if values.get('count') != 1 else ''}"
            + (f", {values['errors']} evaluator errors" if values.get("errors") else "")
            for name, values in sorted((run.aggregates or {}).items())
            if isinstance(values, dict)
        )
        return {
            "section": "validation",
            "key": f"llm_evaluation:{version.template.name}:v{version.version}:{run.dataset.name}",
            "text": f"LLM component: prompt {version.template.name} v{version.version} (content sha256 "
            f"{version.content_sha256[:12]}…"
            + (f", labels {', '.join(labels)}" if labels else "")
            + f") evaluated over dataset {run.dataset.name} ({run.items} items) with {run.provider} {run.model}, "
            f"run {run.pk} of {run.created_at:%Y-%m-%d} ({run.get_status_display().lower()})"
            + (f": {scores}" if scores else ": no evaluator scored")
            + (f"; {run.error}" if run.error else "")
            + ".",
            "records": [run, version, run.dataset],
        }
