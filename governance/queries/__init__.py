"""SQL composition and query builders of the governance reports: what the database computes for them (counts,
window summaries), apart from the statistics (`governance.statistics`) and the services that store reports."""
