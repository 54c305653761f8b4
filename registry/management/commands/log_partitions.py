from datetime import date, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from registry import partitions
from registry.models import Project


def month_argument(value: str) -> date:
    try:
        parsed = datetime.strptime(value, "%Y-%m")
    except ValueError:
        raise CommandError(f"--since {value!r}: expected a month as YYYY-MM") from None
    return date(parsed.year, parsed.month, 1)


class Command(BaseCommand):
    help = (
        "Create the monthly partitions of every partitioned log for every project (PostgreSQL): this month and "
        "--ahead months after it, and with --since every month from a backfill's first; list them with --list. "
        "The scheduled "
        "maintenance does the same; ingest creates a missing month on its own."
    )

    def add_arguments(self, parser):
        parser.add_argument("--ahead", type=int, default=partitions.MONTHS_AHEAD, help="months after this one")
        parser.add_argument("--since", type=month_argument, help="also every month from this one (YYYY-MM)")
        parser.add_argument(
            "--list", dest="listing", action="store_true", help="print each log's partitions and row estimates"
        )

    def handle(self, *args, ahead: int, since: date | None, listing: bool, **options):
        if ahead < 0:
            raise CommandError("--ahead must not be negative")
        now = timezone.now()
        tables = partitions.partitioned_tables()
        if not tables:
            self.stdout.write("no partitioned logs here (SQLite keeps each log in one table)")
            return
        projects = list(Project.objects.values_list("pk", flat=True))
        for table in tables:
            created = partitions.months_ahead(table, project_ids=projects, now=now, ahead=ahead)
            if since is not None:
                months, month = [], since
                while month <= partitions.month_of(now):
                    months.append(month)
                    month = partitions.next_month(month)
                created += partitions.ensure(table, [(project, month) for project in projects for month in months])
            for project, month in sorted(created):
                self.stdout.write(f"created {partitions.partition_name(table, project, month)}")
            if listing:
                for partition in partitions.partitions(table):
                    self.stdout.write(f"{partition.name}\t~{partition.rows_estimate} rows")
