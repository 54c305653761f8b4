"""Pure statistics of the governance reports: functions of arrays and counts, no database access. The services
(`governance.services`) read the data (`governance.queries`), call these and store the result."""
