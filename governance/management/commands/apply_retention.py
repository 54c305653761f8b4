import json

from django.core.management.base import BaseCommand
from django.utils import timezone

from governance.services.retention import retention_apply
from registry.actors import Actor


class Command(BaseCommand):
    help = (
        "Seal into the audit trail and drop every month of decisions past its project's retention maximum that no "
        "legal hold keeps (run it daily, e.g. from cron or the scheduler); prints one JSON line per month it "
        "looked at: sealed, held (with the holds), or refused (rows that do not verify: nothing dropped)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", type=int, action="append", help="only this project id (repeatable)")

    def handle(self, *args, project: list[int] | None, **options):
        for outcome in retention_apply(actor=Actor.system(), now=timezone.now(), project_ids=project):
            self.stdout.write(json.dumps(outcome.as_dict()))
