"""Settings: file, then environment, then flags; bad files and values name the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedloom.config import load_settings
from fedloom.errors import InvalidInput


def test_file_env_and_flags_in_that_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "fedloom.yaml"
    conf.write_text("port: 9000\nmax_running_jobs: 3\nhost: 0.0.0.0\n")
    monkeypatch.setenv("FEDLOOM_MAX_RUNNING_JOBS", "5")
    s = load_settings(conf, host="127.0.0.2")
    assert (s.port, s.max_running_jobs, s.host) == (9000, 5, "127.0.0.2")
    assert s.sqlalchemy_url.startswith("sqlite:///")


@pytest.mark.parametrize(
    "text, words",
    [
        ("port: [1, 2]\n", ["port"]),
        ("no_such_setting: 1\n", ["no_such_setting"]),
        ("- a\n- b\n", ["mapping"]),
        ("port: : :\n", ["config file"]),
    ],
)
def test_bad_config_files(tmp_path: Path, text: str, words: list[str]) -> None:
    conf = tmp_path / "bad.yaml"
    conf.write_text(text)
    with pytest.raises(InvalidInput) as err:
        load_settings(conf)
    for w in words:
        assert w in str(err.value)
