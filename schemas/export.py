"""Export the JSON Schema of every contract message to `schemas/json/` (for partners)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.codec import TOPIC_MODELS
from schemas.submission import ReferralSubmission

JSON_DIR = Path(__file__).parent / "json"


def exported_schemas() -> dict[str, dict[str, object]]:
    """File name -> JSON Schema, for the submission and each topic's message."""
    models: dict[str, type[BaseModel]] = {"referral-submission-v1": ReferralSubmission}
    for topic, model in TOPIC_MODELS.items():
        models[f"topic-{topic}"] = model
    return {f"{name}.json": model.model_json_schema() for name, model in models.items()}


def render(schema: dict[str, object]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_all(directory: Path = JSON_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in exported_schemas().items():
        path = directory / name
        path.write_text(render(schema))
        written.append(path)
    return written


if __name__ == "__main__":
    import sys

    sys.stdout.writelines(f"{path}\n" for path in write_all())
