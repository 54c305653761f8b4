import pytest


@pytest.mark.sqlite
def test_bulk_ingest_then_retry(chain, make_client):
    client = make_client("ingest", chain.project)
    items = [
        {
            "model_version": chain.version.pk,
            "deployment": chain.deployment.pk,
            "request_id": f"r{i}",
            "subject_id": f"person-{i}",
            "features": {"age": 20 + i},
            "sensitive": {"sex": "F"},
            "prediction": "Yes",
            "score": 0.7,
            "occurred_at": "2026-03-01T10:00:00Z",
        }
        for i in range(5)
    ]
    response = client.post("/api/v1/decisions/bulk/", {"decisions": items}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"accepted": 5, "duplicates": 0}
    response = client.post("/api/v1/decisions/bulk/", {"decisions": items}, format="json")
    assert response.json() == {"accepted": 0, "duplicates": 5}
