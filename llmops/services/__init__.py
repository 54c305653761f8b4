"""LLMOps business operations: the only code that writes llmops tables (see STYLE.md)."""
