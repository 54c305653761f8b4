from django.apps import AppConfig


class LlmopsConfig(AppConfig):
    name = "llmops"
    verbose_name = "LLMOps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from governance.evidence.contributors import register_evidence
        from governance.lineage import register_lineage
        from governance.subject_data import register_subject_data
        from llmops.events import LLMEvent
        from llmops.evidence import LLMEvaluationEvidence
        from llmops.integrity import prompt_versions_check
        from llmops.lineage import LLMLineage
        from llmops.permissions import ROLE_GROUP_PERMISSIONS
        from llmops.services.subjects import LLMSubjectData
        from registry.audit import register_event_types
        from registry.hooks import add_record_check
        from registry.roles import declare_role_permissions

        register_event_types(LLMEvent)
        declare_role_permissions("llmops", ROLE_GROUP_PERMISSIONS)
        register_subject_data(LLMSubjectData())
        register_lineage(LLMLineage())
        register_evidence(LLMEvaluationEvidence())
        add_record_check(prompt_versions_check)
