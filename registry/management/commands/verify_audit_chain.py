import json
import re

from django.core.management.base import BaseCommand, CommandError

from registry.audit import audit_chain_verify

ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


class Command(BaseCommand):
    help = "Walk the audit chain from its first event; exit 1 and name the first broken seq if it does not hold."

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
        result = audit_chain_verify(anchors=anchors)
        self.stdout.write(json.dumps(result.as_dict()))
        if not result.ok:
            raise CommandError(f"audit chain broken at seq {result.broken_seq}: {result.reason}", returncode=1)
