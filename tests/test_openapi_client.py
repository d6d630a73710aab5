"""The console's generated API client is generated from the API as it is now."""

from __future__ import annotations

import json
from pathlib import Path

from scrm.main import create_app
from scrm.settings import Environment, load_settings

COMMITTED_SPEC = Path(__file__).resolve().parents[1] / "frontend" / "openapi.json"


def test_the_committed_spec_matches_the_app(tmp_path: Path) -> None:
    settings = load_settings(
        environment=Environment.TEST,
        database_url="sqlite://",
        var_dir=tmp_path,
        secret_key="o" * 40,
        embedded_worker=False,
    )
    current = create_app(settings).openapi()
    committed = json.loads(COMMITTED_SPEC.read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(current)), (
        "frontend/openapi.json is stale: run "
        "`scrm openapi > frontend/openapi.json && (cd frontend && npm run gen:api)`"
    )
