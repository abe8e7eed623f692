"""Issue 13 (web, auth, takedown portal): each test here failed before its fix."""

from __future__ import annotations

import pytest

from tests.web_support import ADMIN_KEY, make_web


@pytest.fixture
def web(tmp_path, db_url):
    w = make_web(tmp_path, db_url)
    yield w
    w.app.state.services.db.close()  # before the PostgreSQL schema is dropped


def _second_app(web, db_url, tmp_path):
    """Another worker over the same store (its own process state: caches, limiter)."""
    from gardefou.web import Settings, create_app
    from tests.web_support import TestClient

    app = create_app(Settings(db=db_url, admin_key=ADMIN_KEY))
    return app, TestClient(app)


# -- H1: revoked means revoked, in every process ----------------------------------------------
def test_key_revoked_on_another_worker_is_refused_at_once(web, db_url, tmp_path) -> None:
    app2, other = _second_app(web, db_url, tmp_path)
    try:
        key = web.h("platform")
        assert web.client.get("/v1/me", headers=key).status_code == 200  # cached here
        assert other.get("/v1/me", headers=key).status_code == 200  # and there
        kid = next(
            k["id"]
            for k in other.get("/v1/keys", headers=web.h("admin")).json()
            if k["role"] == "platform"
        )
        assert other.delete(f"/v1/keys/{kid}", headers=web.h("admin")).status_code == 200
        assert web.client.get("/v1/me", headers=key).status_code == 401
        assert other.get("/v1/me", headers=key).status_code == 401
    finally:
        app2.state.services.db.close()


def test_key_revoked_from_the_cli_store_is_refused_at_once(web) -> None:
    from gardefou.store.db import connect
    from gardefou.web.auth import KeyStore

    key = web.h("auditor")
    assert web.client.get("/v1/me", headers=key).status_code == 200
    db = connect(web.app.state.services.settings.db)  # what `gardefou apikey revoke` opens
    try:
        store = KeyStore(db)
        kid = next(k["id"] for k in store.list() if k["role"] == "auditor")
        store.revoke(kid)
    finally:
        db.close()
    assert web.client.get("/v1/me", headers=key).status_code == 401


# -- fail-closed wiring: unknown store URLs, a port already taken ------------------------------
@pytest.mark.parametrize(
    "url", ["mysql://u:p@db/gardefou", "postgresql+psycopg://x/y", "redis://h"]
)
def test_unknown_store_scheme_is_refused(tmp_path, monkeypatch, url) -> None:
    from gardefou.errors import ConfigError
    from gardefou.store.db import connect

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="postgresql://") as exc:
        connect(url)
    assert url.split("://")[0] in str(exc.value) and "p@" not in str(exc.value)
    assert list(tmp_path.iterdir()) == []  # no SQLite file named after the scheme


def test_cli_db_mysql_exits_with_a_config_error(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    import gardefou.cli.commands_web  # noqa: F401
    from gardefou.cli.main import cli

    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, ["--db", "mysql://root@localhost/gf", "apikey", "list"])
    assert r.exit_code != 0 and "mysql" in r.output
    assert not (tmp_path / "mysql:").exists()


def test_serve_on_a_port_in_use_fails_before_creating_a_key(tmp_path, monkeypatch) -> None:
    import socket

    from click.testing import CliRunner

    import gardefou.cli.commands_web  # noqa: F401
    from gardefou.cli.main import cli
    from gardefou.store.db import connect
    from gardefou.web.auth import KeyStore

    db = str(tmp_path / "s.db")
    monkeypatch.delenv("GARDEFOU_ADMIN_KEY", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = CliRunner().invoke(cli, ["--db", db, "serve", "--port", str(port)])
    assert r.exit_code != 0 and str(port) in r.output and "in use" in r.output
    assert "serving" not in r.output and "shown once" not in r.output
    store = connect(db)
    try:
        assert KeyStore(store).list() == []
    finally:
        store.close()
