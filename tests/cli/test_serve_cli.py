"""``churnradar serve`` (the server itself is replaced by a recorder: no port is opened)
and ``--lang`` on command groups."""

from __future__ import annotations

import pytest

from churnradar.cli import main


@pytest.fixture
def served(monkeypatch):
    calls = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    return calls


def test_serve_refuses_to_start_without_a_secret(web_source, tmp_path, served, monkeypatch,
                                                 capsys):
    monkeypatch.delenv("CHURNRADAR_SECRET_KEY", raising=False)
    monkeypatch.setenv("CHURNRADAR_DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    with pytest.raises(SystemExit) as info:
        main(["serve", str(web_source), "--lang", "en"])
    assert info.value.code == 1 and not served
    assert "CHURNRADAR_SECRET_KEY" in capsys.readouterr().err.replace("\n", "")
    monkeypatch.setenv("CHURNRADAR_SECRET_KEY", "changeme")
    with pytest.raises(SystemExit):
        main(["serve", str(web_source)])
    assert not served


def test_serve_starts_with_a_secret_or_in_dev(web_source, tmp_path, served, monkeypatch,
                                              capsys):
    monkeypatch.setenv("CHURNRADAR_DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("CHURNRADAR_SECRET_KEY", "s" * 48)
    with pytest.raises(SystemExit) as info:
        main(["serve", str(web_source), "--port", "8123", "--host", "0.0.0.0", "--lang", "en"])
    assert info.value.code == 0
    app, kw = served[-1]
    assert kw["host"] == "0.0.0.0" and kw["port"] == 8123
    assert app.state.settings.dev is False
    assert "http://0.0.0.0:8123/" in capsys.readouterr().out
    monkeypatch.delenv("CHURNRADAR_SECRET_KEY")
    with pytest.raises(SystemExit) as info:
        main(["serve", str(web_source), "--dev"])
    assert info.value.code == 0 and served[-1][0].state.settings.dev is True


@pytest.mark.parametrize("group", ["value", "predict", "user"])
def test_command_groups_accept_lang_before_their_command(group, capsys):
    with pytest.raises(SystemExit) as info:
        main([group, "--help", "--lang", "zh-CN"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "Usage" in out and any("\u4e00" <= ch <= "\u9fff" for ch in out)
