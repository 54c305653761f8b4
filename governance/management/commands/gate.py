import json

from django.core.management.base import BaseCommand, CommandError

from governance.services.gate import gate_evaluate
from registry.actors import Actor
from registry.models import ModelVersion, Stage


class Command(BaseCommand):
    help = "The promotion gate for CI/CD: print a version's checks; exit 1 when the gate would refuse it."

    def add_base_argument(self, parser, *args, **kwargs):
        if "--version" in args:  # Django's own --version gives way to the model version's number
            return
        super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="project slug")
        parser.add_argument("--model", required=True, help="model name")
        parser.add_argument("--version", required=True, type=int, help="version number")
        parser.add_argument("--to-stage", default=Stage.PRODUCTION, choices=Stage.values)
        parser.add_argument("--json", action="store_true", help="print the checks as JSON")

    def handle(self, *args, project: str, model: str, version: int, to_stage: str, json: bool, **options):
        target = ModelVersion.objects.filter(model__project__slug=project, model__name=model, version=version).first()
        if target is None:
            raise CommandError(f"no version {version} of model {model!r} in project {project!r}")
        result = gate_evaluate(actor=Actor.system(), model_version=target, to_stage=to_stage)
        if json:
            self.stdout.write(_dumps(result))
        else:
            for check in result["checks"]:
                self.stdout.write(f"{'PASS' if check['passed'] else 'FAIL'}  {check['check']}: {check['message']}")
            verdict = "allowed" if result["allowed"] else "refused"
            self.stdout.write(f"{model} v{version} -> {to_stage}: {verdict}")
        if not result["allowed"]:
            raise CommandError(f"the promotion gate refuses {model} v{version} for {to_stage}", returncode=1)


def _dumps(value) -> str:
    return json.dumps(value, indent=2)
