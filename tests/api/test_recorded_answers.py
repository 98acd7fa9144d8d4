"""The answers the SDK and CLI fakes replay are the real routes' answers (see tests/client/record_answers.py)."""

from __future__ import annotations

import json

from tests.api.conftest import Client
from tests.client.record_answers import RECORDED, record
from tests.services.conftest import psi_job


def test_the_recorded_answers_are_what_the_routes_answer(client: Client) -> None:
    recorded = json.loads(RECORDED.read_text())
    assert record(client, *psi_job()) == recorded, "refresh with: python -m tests.client.record_answers"
