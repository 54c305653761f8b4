import json
import re

from django.core.management.base import BaseCommand, CommandError

from registry.records import trail_verify

ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


class Command(BaseCommand):
    help = (
        "Walk the audit chain from its first event and check every content-hashed record against its creation "
        "event; exit 1 and name the first broken seq or the records that differ."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="a head published earlier (repeatable): the event at SEQ must still have HASH",
        )

    def handle(self, *args, anchor: list[str], **options):
        anchors = {}
        for raw in anchor:
            match = ANCHOR.match(raw)
            if not match:
                raise CommandError(f"--anchor {raw!r} must read SEQ:HASH")
            anchors[int(match[1])] = match[2]
        answer = trail_verify(anchors=anchors, actor_name="command:verify_audit_chain")
        self.stdout.write(json.dumps(answer))
        if "broken_seq" in answer:
            raise CommandError(f"audit chain broken at seq {answer['broken_seq']}: {answer['reason']}", returncode=1)
        if answer["bad_records"]:
            first = answer["bad_records"][0]
            raise CommandError(
                f"{len(answer['bad_records'])} records differ from their creation events, the first "
                f"{first['record']} {first['id']}: {first['reason']}",
                returncode=1,
            )
