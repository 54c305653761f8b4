"""OTLP/HTTP GenAI traces (../shared/specs/otlp-openlineage.md A): `OTEL_EXPORTER_OTLP_ENDPOINT=http://<service>/api/v1/otlp`
and an ingest key in `OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<key>` are all an instrumented app needs.
Every span becomes an llmops TraceSpan, each LLM span an LLM call through `calls_ingest`, written by
llmops.services.traces; this package only reads the wire format."""
