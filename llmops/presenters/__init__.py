"""What the LLMOps admin's custom pages and page sections show, as typed data (TypedDicts of plain values, URLs as
strings): the prompt history and the diff of two versions (prompts), the cost dashboard (costs), a run's page and
two runs compared (evaluation). The admin calls a presenter and renders a template that lays its data out; no
HTML is built here, so each presenter is tested on its fields (tests/llmops/presenters/)."""
