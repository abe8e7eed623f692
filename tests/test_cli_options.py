"""The shared option decorators of cli/options.py: range checks, shown defaults, listen pair."""

from __future__ import annotations

import click
from click.testing import CliRunner

from gardefou.cli.options import (
    file_option,
    float_option,
    int_option,
    limit_option,
    listen_options,
)


@click.command()
@int_option("--batch", default=16, help="Per round trip.")
@int_option("--size", default=None, help="[default: computed]")
@float_option("--share", default=0.5, help="Share.", high=1)
@limit_option("rows")
@listen_options("Address.", 8090, "Port.")
def _cmd(**opts: object) -> None:
    click.echo(repr(sorted(opts.items())))


def test_defaults_reach_the_command() -> None:
    out = CliRunner().invoke(_cmd, []).output
    assert "('batch', 16)" in out and "('size', None)" in out and "('share', 0.5)" in out
    assert "('limit', 100)" in out and "('host', '127.0.0.1')" in out and "('port', 8090)" in out


def test_help_shows_a_set_default_and_hides_a_computed_one() -> None:
    text = CliRunner().invoke(_cmd, ["--help"], terminal_width=200).output
    assert "Per round trip.  [default: 16; x>=1]" in text
    assert "[default: computed]  [x>=1]" in text
    assert "At most this many rows.  [default: 100; x>=1]" in text
    assert "Port.  [default: 8090; 1<=x<=65535]" in text


def test_out_of_range_values_are_usage_errors() -> None:
    for args in (["--batch", "0"], ["--share", "1.5"], ["--port", "70000"], ["--limit", "0"]):
        res = CliRunner().invoke(_cmd, args)
        assert res.exit_code == 2, args
        assert "is not in the range" in res.output


@click.command()
@file_option("--key", help="A key.")
def _key_cmd(key: str | None) -> None:
    click.echo(f"key={key}")


def test_file_option_refuses_a_missing_file_and_a_folder(tmp_path) -> None:
    pem = tmp_path / "k.pem"
    pem.write_text("x")
    assert CliRunner().invoke(_key_cmd, ["--key", str(pem)]).output == f"key={pem}\n"
    for bad in (tmp_path / "missing.pem", tmp_path):
        res = CliRunner().invoke(_key_cmd, ["--key", str(bad)])
        assert res.exit_code == 2 and "--key" in res.output, bad


def test_open_store_opens_the_root_db_from_a_nested_command(tmp_path) -> None:
    from gardefou.cli.group import open_store

    @click.group()
    @click.option("--db")
    @click.pass_context
    def root(ctx: click.Context, db: str | None) -> None:
        ctx.ensure_object(dict)["db"] = db

    @root.group()
    def inner() -> None:
        pass

    @inner.command()
    @click.pass_context
    def touch(ctx: click.Context) -> None:
        open_store(ctx).close()

    db = tmp_path / "nested.db"
    res = CliRunner().invoke(root, ["--db", str(db), "inner", "touch"])
    assert res.exit_code == 0, res.output
    assert db.is_file()
