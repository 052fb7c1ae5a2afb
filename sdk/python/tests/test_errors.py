"""Errors are Python exceptions with meaning, carrying the server's message."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.server import ServerProcess, unique

import traintrack as tt


def test_a_wrong_api_key_is_unauthenticated(server: ServerProcess) -> None:
    with tt.Client(url=server.url, api_key="tt_not_a_key_of_this_server", progress=False) as client:
        with pytest.raises(tt.Unauthenticated, match="the API key is not valid"):
            list(client.datasets.list())
        with pytest.raises(tt.Unauthenticated):
            client.datasets.save(tt.Dataset(name=unique("nope"), version="1"))


@pytest.mark.parametrize(
    ("name", "version", "says"),
    [
        ("bad name!", "1.0.0", "may only hold letters"),
        ("-leading-dash", "1.0.0", "must start with a letter or digit"),
        ("ok-name", "1 0", "may only hold letters"),
        ("x" * 129, "1", "limit is 128"),
    ],
)
def test_bad_names_and_versions_are_invalid_argument_before_any_upload(
    client: tt.Client, tmp_path: Path, name: str, version: str, says: str
) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text("x\n1\n")
    with pytest.raises(tt.InvalidArgument, match=says) as raised:
        client.datasets.save(tt.Dataset(name=name, version=version).add_file(csv))
    assert isinstance(raised.value, ValueError)  # catchable as a ValueError too


def test_bad_artefact_names_are_invalid_argument(client: tt.Client, tmp_path: Path) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text("x\n1\n")
    ds = tt.Dataset(name=unique("paths"), version="1")
    for bad in ("../escape.csv", "/abs.csv", "a//b.csv", "a\\b.csv", "tab\there.csv", ""):
        with pytest.raises(tt.InvalidArgument):
            ds.add_file(csv, name=bad)
    ds.add_file(csv)
    with pytest.raises(tt.InvalidArgument, match="already"):
        ds.add_file(csv)
    with pytest.raises(tt.InvalidArgument, match="version is required"):
        tt.Dataset(name="x")


def test_what_does_not_exist_is_not_found(client: tt.Client, tmp_path: Path) -> None:
    name = unique("missing")
    with pytest.raises(tt.NotFound, match="not found") as raised:
        client.datasets.get(name)
    assert isinstance(raised.value, LookupError)
    saved = client.datasets.save(tt.Dataset(name=name, version="1"))
    with pytest.raises(tt.NotFound, match='version "2" not found'):
        client.datasets.get(name, version="2")
    with pytest.raises(tt.NotFound, match="no artefact"):
        saved.open("nothing.csv")
    with pytest.raises(tt.NotFound, match="not found"):
        client.datasets.save(tt.Dataset(name=unique("child"), version="1", derived_from=[(name, "9")]))
    with pytest.raises(tt.NotFound):
        client.datasets.lineage(name, "9")
