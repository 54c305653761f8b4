"""The decision log is partitioned by project, then month (PostgreSQL, governance 0019, registry/partitions.py):
rows land in their project's month, ingest creates a project or month that has none, idempotency holds across
months, and the migration's conversion keeps an existing table's rows, identity, indexes, constraints and
triggers."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.db import connection

from governance.models import Decision, DriftHour
from registry import partitions
from registry.partitions import add_months, month_of, partition_name
from tests import factories as f
from tests.helpers import as_deployment_role

pytestmark = pytest.mark.django_db
TABLE = "governance_decision"


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("partitions are PostgreSQL's")


@pytest.fixture
def ingest(make_client, chain):
    return make_client("ingest", chain.project)


def item(chain, request_id, occurred_at, **extra):
    return {
        "model_version": chain.version.pk,
        "request_id": request_id,
        "subject_id": f"person-{request_id}",
        "features": {"age": 30},
        "prediction": "approve",
        "occurred_at": occurred_at,
        **extra,
    }


def bulk(client, items):
    response = client.post("/api/v1/decisions/bulk/", {"decisions": items}, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def where(request_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {TABLE} WHERE request_id = %s", [request_id])  # noqa: S608
        return cursor.fetchone()[0]


def test_the_log_is_partitioned_by_project_and_month_with_both_keys_in_each_unique_constraint(chain):
    assert partitions.is_partitioned(TABLE)
    assert partitions.partitioned_tables() == [TABLE, "governance_outcomeversion"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
            "AND contype IN ('p', 'u') ORDER BY conname",
            [TABLE],
        )
        assert cursor.fetchall() == [
            ("decision_version_request", "UNIQUE (project_id, model_version_id, request_id, occurred_at)"),
            ("governance_decision_pkey", "PRIMARY KEY (id, project_id, occurred_at)"),
        ]


def test_ingest_creates_a_project_and_month_that_have_none_and_rows_land_in_theirs(ingest, chain):
    project = chain.project.pk
    assert partitions.partitions(TABLE, project_id=project) == []
    old, new = item(chain, "old", "2019-03-31T23:30:00-02:00"), item(chain, "new", "2026-03-02T00:00:00Z")
    assert bulk(ingest, [old, new])["accepted"] == 2
    # 23:30 at -02:00 is April in UTC: the month is UTC's
    assert where("old") == partition_name(TABLE, project, date(2019, 4, 1))
    assert where("new") == partition_name(TABLE, project, date(2026, 3, 1))
    assert [p.month for p in partitions.partitions(TABLE, project_id=project)] == [date(2019, 4, 1), date(2026, 3, 1)]
    # the drift counts (a statement trigger on the parent) see rows of every partition
    assert DriftHour.objects.filter(model_version=chain.version).count() == 2


def test_a_resent_decision_is_a_duplicate_and_another_time_is_another_decision_whose_outcome_names_it(ingest, chain):
    assert bulk(ingest, [item(chain, "r1", "2026-03-01T10:00:00Z")]) == {"accepted": 1, "duplicates": 0}
    assert bulk(ingest, [item(chain, "r1", "2026-03-01T10:00:00Z")]) == {"accepted": 0, "duplicates": 1}
    # the log's key has the time (and the partition's month): the same request id in May is another decision
    assert bulk(ingest, [item(chain, "r1", "2026-05-09T10:00:00Z")]) == {"accepted": 1, "duplicates": 0}
    outcome = {"model_version": chain.version.pk, "request_id": "r1", "outcome": "repaid"}
    response = ingest.post("/api/v1/decisions/outcomes/", {"outcomes": [outcome]}, format="json")
    assert response.status_code == 400, response.content
    assert "names 2 decisions" in str(response.json()["error"]["fields"]["outcomes[0].occurred_at"])
    chosen = {**outcome, "occurred_at": "2026-05-09T10:00:00Z"}
    response = ingest.post("/api/v1/decisions/outcomes/", {"outcomes": [chosen]}, format="json")
    assert response.status_code == 200, response.content
    assert dict(Decision.objects.filter(request_id="r1").values_list("occurred_at__month", "outcome")) == {
        3: None,
        5: "repaid",
    }
    elsewhere = {**outcome, "occurred_at": "2026-04-01T00:00:00Z"}
    response = ingest.post("/api/v1/decisions/outcomes/", {"outcomes": [elsewhere]}, format="json")
    assert response.status_code == 400 and "outcomes[0].occurred_at" in response.json()["error"]["fields"]


def test_ensure_is_idempotent_and_months_ahead_fills_the_gap(project, other_project):
    month = date(2018, 7, 1)
    assert partitions.ensure(TABLE, [(project.pk, month), (project.pk, month)]) == [(project.pk, month)]
    assert partitions.ensure(TABLE, [(project.pk, month)]) == []
    now = datetime(2031, 1, 15, tzinfo=UTC)
    ahead = [date(2031, 1, 1), date(2031, 2, 1), date(2031, 3, 1), date(2031, 4, 1)]
    both = sorted((project.pk, other_project.pk))
    assert partitions.months_ahead(TABLE, project_ids=both, now=now) == [(p, m) for p in both for m in ahead]
    assert partitions.months_ahead(TABLE, project_ids=both, now=now) == []
    # the maintenance command: every project, this month and three ahead, and a backfill's months
    this = month_of(datetime.now(UTC))
    call_command("log_partitions", "--since", "2018-06", stdout=io.StringIO())
    months = {p.month for p in partitions.partitions(TABLE, project_id=other_project.pk)}
    assert {date(2018, 6, 1), date(2025, 1, 1), this, add_months(this, 3)} <= months


def test_a_row_of_a_month_without_partition_is_refused_not_hidden(chain):
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError, match="no partition"), transaction.atomic():
        Decision.objects.create(
            project=chain.project,
            model_version=chain.version,
            request_id="stray",
            prediction=1,
            occurred_at=datetime(2017, 1, 1, tzinfo=UTC),
            created_at=datetime(2017, 1, 1, tzinfo=UTC),
        )


def test_the_conversion_keeps_rows_identity_indexes_constraints_and_triggers():
    """What governance 0019 does to an installation's table, on a table of the same shape holding rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TABLE scratch_log (
                id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                project_id bigint NOT NULL REFERENCES registry_project (id) DEFERRABLE INITIALLY DEFERRED,
                request_id varchar(200) NOT NULL,
                occurred_at timestamptz NOT NULL,
                score double precision CHECK (score >= 0),
                CONSTRAINT scratch_unique UNIQUE (project_id, request_id)
            );
            CREATE INDEX scratch_time ON scratch_log (project_id, occurred_at);
            CREATE TABLE scratch_counts (n bigint);
            INSERT INTO scratch_counts VALUES (0);
            CREATE FUNCTION scratch_count() RETURNS trigger AS $$
                BEGIN UPDATE scratch_counts SET n = n + (SELECT count(*) FROM new_rows); RETURN NULL; END $$
                LANGUAGE plpgsql;
            CREATE TRIGGER scratch_counted AFTER INSERT ON scratch_log REFERENCING NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION scratch_count();
            """
        )
        project, other = f.ProjectFactory(), f.ProjectFactory()
        cursor.execute(
            "INSERT INTO scratch_log (project_id, request_id, occurred_at, score) VALUES "
            "(%s, 'a', '2025-11-03T00:00:00Z', 1), (%s, 'b', '2026-01-31T23:59:59Z', 2), "
            "(%s, 'c', '2026-02-01T00:00:00Z', 3)",
            [project.pk, project.pk, other.pk],
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as committed rows are, when the migration runs
        with connection.schema_editor(atomic=False) as editor:
            partitions.convert(
                editor,
                "scratch_log",
                column="occurred_at",
                primary_key=("id", "project_id", "occurred_at"),
                uniques={"scratch_unique": ("project_id", "request_id", "occurred_at")},
            )
        # each project from its first month to three months ahead
        mine = [p.month for p in partitions.partitions("scratch_log", project_id=project.pk)]
        theirs = [p.month for p in partitions.partitions("scratch_log", project_id=other.pk)]
        ahead = add_months(month_of(datetime.now(UTC)), 3)
        assert mine[:3] == [date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1)] and mine[-1] == ahead
        assert theirs[0] == date(2026, 2, 1) and theirs[-1] == ahead
        cursor.execute("SELECT request_id, tableoid::regclass::text FROM scratch_log ORDER BY id")
        assert cursor.fetchall() == [
            ("a", f"scratch_log_j{project.pk}_p202511"),
            ("b", f"scratch_log_j{project.pk}_p202601"),
            ("c", f"scratch_log_j{other.pk}_p202602"),
        ]
        # the identity goes on after the moved rows; the trigger counts; the check and the foreign key hold
        cursor.execute(
            "INSERT INTO scratch_log (project_id, request_id, occurred_at) VALUES (%s, 'd', '2026-02-02') RETURNING id",
            [other.pk],
        )
        assert cursor.fetchone()[0] == 4
        cursor.execute("SELECT n FROM scratch_counts")
        assert cursor.fetchone()[0] == 4  # three counted when logged, one now: moving the rows counted none twice
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'scratch_log' ORDER BY indexname")
        assert [row[0] for row in cursor.fetchall()] == ["scratch_log_pkey", "scratch_time", "scratch_unique"]
        for statement in (
            "INSERT INTO scratch_log (project_id, request_id, occurred_at, score) VALUES (%s, 'e', '2026-02-02', -1)",
            "INSERT INTO scratch_log (project_id, request_id, occurred_at) VALUES (%s, 'c', '2026-02-01T00:00:00Z')",
        ):
            cursor.execute("SAVEPOINT attempt")
            with pytest.raises(Exception, match="check|duplicate"):
                cursor.execute(statement, [other.pk])
            cursor.execute("ROLLBACK TO SAVEPOINT attempt")


def test_the_deployment_role_gets_its_partitions_from_the_function_but_cannot_drop_one(ingest, chain):
    """As the README's service role (no DDL): a new month comes from log_partition_create, which creates
    nothing but a log's partition of an existing project; dropping a month stays the owner's."""
    from django.db import DatabaseError, transaction

    with connection.cursor() as cursor, as_deployment_role(cursor, temporary=True):
        assert bulk(ingest, [item(chain, "backfill", "2015-06-01T00:00:00Z")])["accepted"] == 1
        assert where("backfill") == partition_name(TABLE, chain.project.pk, date(2015, 6, 1))
        for statement, match in (
            (f'DROP TABLE "{partition_name(TABLE, chain.project.pk, date(2015, 6, 1))}"', "must be owner"),
            ("CREATE TABLE governance_forged (id int)", "permission denied"),
            ("SELECT log_partition_create('registry_auditevent', %s, '2015-07-01')", "not a partitioned log"),
            ("SELECT log_partition_create('governance_decision', %s, '2015-07-02')", "first day of a month"),
            ("SELECT log_partition_create('governance_decision', 987654321, '2015-07-01')", "does not exist"),
        ):
            with pytest.raises(DatabaseError, match=match), transaction.atomic():
                cursor.execute(statement, [chain.project.pk] if "%s" in statement else None)
