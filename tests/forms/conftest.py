from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Persona
from tests.forms.helpers import label


def make_form(client: Any, persona: Persona, **body: Any) -> Any:
    payload = {
        "name": "投诉登记",
        "kind": "public",
        "fields": [
            {"key": "name", "type": "text", "label": label("姓名", "Name"), "required": True},
            {"key": "phone", "type": "phone", "label": label("手机号", "Mobile"), "required": True},
        ],
    } | body
    return client.post("/api/v1/forms", json=payload, headers=persona.headers)


@pytest.fixture
def form_maker():
    return make_form
