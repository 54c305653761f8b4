from django.core.management.base import BaseCommand

from governance.alerts import deliveries_run


class Command(BaseCommand):
    help = "Attempt every webhook delivery that is due (first attempts that failed, retries with backoff)."

    def handle(self, *args, **options):
        done = deliveries_run()
        for delivery in done:
            self.stdout.write(f"{delivery}: {delivery.last_status_code or delivery.last_error or 'sent'}")
        self.stdout.write(f"{len(done)} deliveries attempted")
