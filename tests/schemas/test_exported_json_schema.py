"""The JSON Schema files partners read are exactly what the models produce."""

from __future__ import annotations

from schemas.export import JSON_DIR, exported_schemas, render


def test_committed_json_schemas_match_the_models() -> None:
    """Every exported schema file is present and identical; run `make schemas` after a model change."""
    expected = exported_schemas()
    on_disk = {path.name for path in JSON_DIR.glob("*.json")}
    assert on_disk == set(expected), "schemas/json/ holds stale or missing files: run `make schemas`"
    for name, schema in expected.items():
        assert (JSON_DIR / name).read_text() == render(schema), f"{name} is out of date: run `make schemas`"
