"""Evidence built from the records on request: machine-readable exports of a model version (a CycloneDX ML-BOM,
a Hugging Face-style model card), each a read of what was recorded, citing it."""
