"""The OpenAPI document describes what a feature with schemas.py answers: its response model and its error
codes (issue 12). Features join this list as they gain response models."""

from __future__ import annotations

import pytest

from onevoice.app import create_app

DESCRIBED = [("get", "/api/v1/contacts/{contact_id}", "ContactOut"),
             ("post", "/api/v1/contacts/{contact_id}/link", "ContactOut")]


@pytest.mark.parametrize("method,path,model", DESCRIBED)
def test_the_document_describes_the_answer_and_the_errors(settings, method, path, model):
    doc = create_app(settings).openapi()
    responses = doc["paths"][path][method]["responses"]
    assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}
    assert {"401", "403", "404", "422"} <= set(responses)
    assert doc["components"]["schemas"][model]["required"]
