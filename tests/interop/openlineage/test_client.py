"""The stock openlineage-python client (HttpTransport) against a live test server, configured from the
environment as a pipeline would be: OPENLINEAGE_URL and OPENLINEAGE_API_KEY (the README's two variables), and
the OPENLINEAGE__TRANSPORT__* form with gzip on; a job's START and COMPLETE with real facets; a bad event fails
at once with the server's 4xx and no retry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import requests

from registry import services
from registry.actors import Actor
from registry.models import DataVersionParent, LineageEvent, Run, RunOutput
from tests import factories as f


@pytest.fixture
def lineage_project(transactional_db):
    return f.ProjectFactory(slug="pipes", name="Pipelines")


@pytest.fixture(params=["url_and_key", "transport_gzip"])
def client(request, live_server, lineage_project, monkeypatch):
    from openlineage.client import OpenLineageClient

    raw = services.api_key_create(actor=Actor.system(), project=lineage_project, role="ingest", name="airflow")[1]
    monkeypatch.delenv("OPENLINEAGE_CONFIG", raising=False)
    monkeypatch.delenv("OPENLINEAGE_ENDPOINT", raising=False)
    if request.param == "url_and_key":
        monkeypatch.setenv("OPENLINEAGE_URL", live_server.url)
        monkeypatch.setenv("OPENLINEAGE_API_KEY", raw)
        client = OpenLineageClient()
        assert client.transport.config.compression is None
    else:
        for name, value in {
            "TYPE": "http",
            "URL": live_server.url,
            "AUTH__TYPE": "api_key",
            "AUTH__API_KEY": raw,
            "COMPRESSION": "gzip",
        }.items():
            monkeypatch.setenv(f"OPENLINEAGE__TRANSPORT__{name}", value)
        client = OpenLineageClient()
        assert str(client.transport.config.compression) in ("gzip", "HttpCompression.GZIP")
    return client


def _event(state, run_id: str, *, inputs=(), outputs=(), run_facets=None):
    from openlineage.client.event_v2 import Job, Run, RunEvent

    return RunEvent(
        eventType=state,
        eventTime=datetime.now(UTC).isoformat(),
        run=Run(runId=run_id, facets=run_facets or {}),
        job=Job(namespace="airflow", name="features.build"),
        inputs=list(inputs),
        outputs=list(outputs),
        producer="https://example.com/pipelines",
    )


def test_a_job_run_reported_by_the_stock_client_is_recorded(client, lineage_project):
    from openlineage.client.event_v2 import InputDataset, OutputDataset, RunState
    from openlineage.client.facet_v2 import (
        dataset_version_dataset,
        output_statistics_output_dataset,
        schema_dataset,
    )

    assert client.transport.kind == "http"
    run_id = str(uuid.uuid4())
    source = InputDataset(namespace="postgres://warehouse:5432", name="bank.public.applicants")
    schema = schema_dataset.SchemaDatasetFacet(
        fields=[
            schema_dataset.SchemaDatasetFacetFields(name="income", type="double"),
            schema_dataset.SchemaDatasetFacetFields(name="age", type="int"),
        ]
    )
    table = OutputDataset(
        namespace="s3://features",
        name="credit/train.parquet",
        facets={"schema": schema, "version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion="v12")},
        outputFacets={
            "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(rowCount=5000)
        },
    )
    client.emit(_event(RunState.START, run_id, inputs=[source]))
    client.emit(_event(RunState.COMPLETE, run_id, inputs=[source], outputs=[table]))

    run = Run.objects.get(project=lineage_project, run_uuid=uuid.UUID(run_id).hex)
    assert (run.source, run.status, str(run.pipeline.job)) == ("openlineage", "finished", "airflow/features.build")
    written = RunOutput.objects.get(run=run).data_version
    assert (written.version, written.row_count, written.schema) == ("v12", 5000, {"income": "double", "age": "int"})
    assert written.dataset.source_uri == "s3://features/credit/train.parquet"
    assert DataVersionParent.objects.get(child=written).parent.dataset.source_uri == (
        "postgres://warehouse:5432/bank.public.applicants"
    )
    assert LineageEvent.objects.filter(run=run).count() == 2


def test_a_refused_event_raises_at_once_without_retries(client, lineage_project, monkeypatch):
    from openlineage.client.event_v2 import RunState

    sent = []
    original = requests.Session.send

    def counting(self, request, **kwargs):
        sent.append(request.url)
        return original(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", counting)
    event = _event(RunState.START, str(uuid.uuid4()))
    event.job.name = "x" * 1001  # longer than a job name may be
    with pytest.raises(requests.HTTPError) as raised:
        client.emit(event)
    assert raised.value.response.status_code == 400
    assert "job.name" in raised.value.response.json()["error"]["fields"]
    assert len(sent) == 1
    assert not Run.objects.filter(project=lineage_project).exists()
