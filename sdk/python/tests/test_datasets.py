"""Round trips through the real server: save, list, get, open, download, to_pandas, transform, lineage."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd
import pytest
from support.files import sha256_of
from support.server import unique

import traintrack as tt

MiB = 1024 * 1024


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer": ["a", "b", "c", "d"],
            "tenure": [1.0, None, 3.5, 12.0],
            "churned": [True, False, False, True],
        }
    )


def test_save_then_get_open_download_and_to_pandas_give_back_every_byte(
    client: tt.Client, tmp_path: Path, random_file: Callable[..., Path]
) -> None:
    csv = tmp_path / "churn.csv"
    csv.write_text("customer,tenure\na,1\nb,\nc,3.5\n")
    big = random_file(20 * MiB + 12345, "shards.bin")  # large enough to take the resumable path
    name = unique("churn")
    ds = tt.Dataset(name=name, description="export from CRM", version="1.0.0", metadata={"owner": "ml"})
    ds.add_file(csv).add_file(big, name="train/shards.bin")
    ds.add_dataframe("features", frame())

    saved = client.datasets.save(ds)

    assert (saved.name, saved.version, saved.description, saved.metadata) == (name, "1.0.0", "export from CRM", {"owner": "ml"})
    by_name = {a.name: a for a in saved.artefacts}
    assert set(by_name) == {"churn.csv", "train/shards.bin", "features.parquet"}
    assert (by_name["churn.csv"].size, by_name["churn.csv"].sha256) == (csv.stat().st_size, sha256_of(csv))
    assert (by_name["train/shards.bin"].size, by_name["train/shards.bin"].sha256) == (big.stat().st_size, sha256_of(big))
    assert by_name["churn.csv"].format == "csv" and by_name["churn.csv"].media_type == "text/csv"
    assert by_name["features.parquet"].format == "parquet"
    assert by_name["train/shards.bin"].format == "bin"

    for got in (client.datasets.get(name, version="1.0.0"), client.datasets.get(name)):
        assert got.ref == tt.DatasetRef(name, "1.0.0")
        assert got.artefacts == saved.artefacts
        assert got.created_at == saved.created_at

    v1 = client.datasets.get(name, version="1.0.0")
    with v1.open("train/shards.bin") as stream:
        hasher = hashlib.sha256()
        for block in iter(lambda: stream.read(3 * MiB + 1), b""):
            hasher.update(block)
    assert hasher.hexdigest() == sha256_of(big)
    with v1.open("churn.csv", "r") as text:
        assert text.read() == csv.read_text()
    with v1.open("train/shards.bin") as stream:
        stream.seek(-100, 2)
        assert stream.read() == big.read_bytes()[-100:]

    written = v1.download(tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == ["churn.csv", "features.parquet", "train/shards.bin"]
    assert (tmp_path / "out" / "train" / "shards.bin").read_bytes() == big.read_bytes()
    assert (tmp_path / "out" / "churn.csv").read_bytes() == csv.read_bytes()
    assert sha256_of(tmp_path / "out" / "features.parquet") == by_name["features.parquet"].sha256
    assert not list((tmp_path / "out").rglob("*.part"))

    pd.testing.assert_frame_equal(v1.to_pandas("features"), frame())
    pd.testing.assert_frame_equal(v1.to_pandas("features.parquet"), frame())
    pd.testing.assert_frame_equal(v1.to_pandas("churn.csv"), pd.read_csv(csv))


def test_list_pages_lazily_through_every_dataset_with_its_latest_version(client: tt.Client) -> None:
    prefix = unique("listing")
    names = [f"{prefix}-{i}" for i in range(5)]
    for name in names:
        client.datasets.save(tt.Dataset(name=name, description=f"about {name}", version="1"))
    client.datasets.save(tt.Dataset(name=names[0], version="2"))

    listing = client.datasets.list(prefix, page_size=2)
    assert isinstance(listing, Iterator)
    summaries = list(listing)

    assert [s.name for s in summaries] == names
    assert summaries[0].latest_version == "2" and summaries[0].version_count == 2
    assert summaries[1].latest_version == "1" and summaries[1].description == f"about {names[1]}"
    assert all(s.created_at is not None for s in summaries)
    assert list(client.datasets.list(unique("nothing"))) == []


def test_transform_derives_a_new_version_whose_lineage_points_to_its_source(
    client: tt.Client, tmp_path: Path, random_file: Callable[..., Path]
) -> None:
    name = unique("customer_churn")
    csv = tmp_path / "raw.csv"
    csv.write_text("a,b\n1,2\n3,\n5,6\n")
    blob = random_file(100_000, "model.bin")
    ds = tt.Dataset(name=name, description="export from CRM", version="1.0.0")
    ds.add_dataframe("features", frame()).add_file(csv).add_file(blob)
    v1 = client.datasets.save(ds)

    v2 = v1.transform(lambda df: df.dropna(), name=name, version="1.0.1", description="drop NaNs")

    assert v2.ref == tt.DatasetRef(name, "1.0.1")
    assert v2.description == "drop NaNs"
    assert v2.derived_from == [v1.ref]
    pd.testing.assert_frame_equal(v2.to_pandas("features"), frame().dropna())
    pd.testing.assert_frame_equal(v2.to_pandas("raw.csv"), pd.read_csv(csv).dropna().reset_index(drop=True))
    carried = {a.name: a for a in v2.artefacts}["model.bin"]
    assert carried.sha256 == sha256_of(blob)

    v3 = v2.transform(lambda df: df.head(1), version="2.0.0", artefacts=["features"])
    assert v3.name == name and v3.description == "drop NaNs"
    pd.testing.assert_frame_equal(v3.to_pandas("features"), frame().dropna().head(1))
    pd.testing.assert_frame_equal(v3.to_pandas("raw.csv"), v2.to_pandas("raw.csv"))

    middle = client.datasets.lineage(v2)
    assert middle.parents == [v1.ref] and middle.children == [v3.ref]
    assert middle.ancestors == [v1.ref] and middle.descendants == [v3.ref]
    assert set(middle.nodes) == {v1.ref, v2.ref, v3.ref}
    assert tt.LineageEdge(v1.ref, v2.ref) in middle.edges
    assert client.datasets.lineage(v1).descendants == [v2.ref, v3.ref]
    assert client.datasets.lineage(name, "2.0.0").ancestors == [v2.ref, v1.ref]
    assert client.datasets.lineage(f"{name}@1.0.0", depth=1).descendants == [v2.ref]
    assert v3.lineage().ancestors == [v2.ref, v1.ref]


def test_saving_identical_content_again_returns_the_first_version_without_uploading(
    client: tt.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique("idempotent")
    csv = tmp_path / "a.csv"
    csv.write_text("x\n1\n")

    def build() -> tt.Dataset:
        return tt.Dataset(name=name, description="d", version="1").add_file(csv).add_dataframe("features", frame())

    first = client.datasets.save(build())

    def no_upload(*args: object, **kwargs: object) -> None:
        raise AssertionError("a retried save uploaded again")

    monkeypatch.setattr(client._uploader, "upload_file", no_upload)
    again = client.datasets.save(build())
    assert again.ref == first.ref and again.created_at == first.created_at and again.artefacts == first.artefacts


def test_saving_a_version_that_exists_with_other_content_is_already_exists(client: tt.Client, tmp_path: Path) -> None:
    name = unique("exists")
    csv = tmp_path / "a.csv"
    csv.write_text("x\n1\n")
    client.datasets.save(tt.Dataset(name=name, description="first", version="1").add_file(csv))

    csv.write_text("x\n2\n")
    with pytest.raises(tt.AlreadyExists, match="already exists with other content.*artefacts \\(a.csv\\)"):
        client.datasets.save(tt.Dataset(name=name, description="first", version="1").add_file(csv))
    with pytest.raises(tt.AlreadyExists, match="description"):
        client.datasets.save(tt.Dataset(name=name, description="second", version="1"))

    # The server's own check (a save that raced another one) maps to the same exception, with its message.
    from traintrack._gen.v1 import dataset_pb2

    t = client._transport
    with pytest.raises(tt.AlreadyExists, match="versions are immutable") as raised:
        t.call(t.datasets.CreateDataset, dataset_pb2.CreateDatasetRequest(name=name, version="1", description="other"), what="test")
    assert raised.value.code is not None and raised.value.code.name == "ALREADY_EXISTS"


def test_a_version_with_more_artefacts_than_the_servers_first_page_is_read_whole(client: tt.Client, tmp_path: Path) -> None:
    # The server sends a version with its first 1,000 artefacts; the SDK reads the rest with ListArtefacts.
    name = unique("many_files")
    ds = tt.Dataset(name=name, version="1")
    count = 1_003
    for i in range(count):
        path = tmp_path / "in" / f"f{i:05d}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"file {i}\n")
        ds.add_file(path, name=f"part/f{i:05d}.txt")
    client.datasets.save(ds)

    got = client.datasets.get(name, "1")
    assert got.artefact_count == count
    assert [a.name for a in got.artefacts] == [f"part/f{i:05d}.txt" for i in range(count)]
    assert [a.name for a in got.iter_artefacts("part/f0100")] == [f"part/f{i:05d}.txt" for i in range(1000, 1003)]
    files = got.download(tmp_path / "out", names=["part/f01002.txt", "part/f00000.txt"])
    assert sorted(f.read_text() for f in files) == ["file 0\n", "file 1002\n"]
    assert "and 993 more" in repr(got)
    # Saving the same content again compares every artefact, not the first page.
    assert client.datasets.save(ds).ref == got.ref
