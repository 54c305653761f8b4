from django.core.management.base import BaseCommand

from llmops.demo import LLM_DEMO_PROJECT, llm_demo_load


class Command(BaseCommand):
    help = (
        f"Load the LLM demo project `{LLM_DEMO_PROJECT}` (a support assistant's prompt versions, calls with "
        "retrieved documents, prices, a budget and an evaluation of two prompt versions) unless it is there."
    )

    def handle(self, *args, **options):
        result = llm_demo_load()
        if not result.loaded:
            self.stdout.write(f"LLM demo already loaded (project {result.project.slug!r})")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"LLM demo loaded in {result.seconds:.1f} s: project {result.project.slug!r}, {result.calls} calls "
                f"({result.unpriced} unpriced), cost {result.cost} USD, evaluation runs {list(result.evaluation_runs)}"
            )
        )
