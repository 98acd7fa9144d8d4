"""Client-key settings: empty keys are no keys, keys go in pairs, the secret never shows."""

from __future__ import annotations

import pytest

from fedloom.config import load_settings
from fedloom.errors import InvalidInput


def test_empty_keys_from_the_environment_are_no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEDLOOM_APP_KEY", "")
    monkeypatch.setenv("FEDLOOM_SECRET_KEY", " ")
    s = load_settings(None)
    assert s.app_key is None and s.secret_key is None and not s.auth_enabled


def test_keys_go_in_pairs() -> None:
    with pytest.raises(InvalidInput, match="together"):
        load_settings(None, app_key="k")


def test_secret_is_hidden_and_key_turns_auth_on() -> None:
    s = load_settings(None, app_key="k", secret_key="very-secret")
    assert s.auth_enabled
    assert "very-secret" not in repr(s) and "very-secret" not in str(s.model_dump())
