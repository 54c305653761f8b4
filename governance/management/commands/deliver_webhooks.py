"""Webhook deliveries for cron users and `make run` (with Celery, beat's "webhook deliveries" task does this every
WEBHOOK_DELIVERY_SECONDS: governance/tasks.py); a thin wrapper of governance.services.alerts.deliveries_run."""

import time

from django.core.management.base import BaseCommand

from governance.services.alerts import deliveries_run


class Command(BaseCommand):
    help = (
        "Send every webhook delivery that is due (alerts only queue them; failures are retried with backoff). "
        "With --loop, keep checking every --interval seconds (what `make run` starts beside the server)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="keep running, checking every --interval seconds")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between checks with --loop")

    def handle(self, *args, **options):
        while True:
            done = deliveries_run()
            for delivery in done:
                self.stdout.write(f"{delivery}: {delivery.last_status_code or delivery.last_error or 'sent'}")
            if not options["loop"]:
                self.stdout.write(f"{len(done)} deliveries attempted")
                return
            time.sleep(options["interval"])
