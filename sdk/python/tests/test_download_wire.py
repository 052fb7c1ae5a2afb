"""Download responses decode to the same bytes whether read as raw chunks or parsed by protobuf."""

from __future__ import annotations

import os

import pytest

from traintrack._download_wire import chunk_or_message
from traintrack._gen.v1 import dataset_pb2, run_artefact_pb2

parse = chunk_or_message(dataset_pb2.DownloadArtefactResponse)


@pytest.mark.parametrize("size", [1, 127, 128, 16_383, 16_384, 1024 * 1024, 1024 * 1024 + 7])
def test_a_chunk_arrives_as_a_view_of_its_bytes(size: int) -> None:
    data = os.urandom(size)
    got = parse(dataset_pb2.DownloadArtefactResponse(chunk=data).SerializeToString())
    assert isinstance(got, memoryview)
    assert got.tobytes() == data


def test_the_description_is_parsed_as_a_message() -> None:
    raw = dataset_pb2.DownloadArtefactResponse(artefact=dataset_pb2.Artefact(path="a.bin", size=3, sha256="ab" * 32)).SerializeToString()
    got = parse(raw)
    assert isinstance(got, dataset_pb2.DownloadArtefactResponse)
    assert got.artefact.path == "a.bin"


def test_a_chunk_with_other_fields_is_parsed_and_keeps_its_bytes() -> None:
    message = dataset_pb2.DownloadArtefactResponse(chunk=b"abc").SerializeToString()
    unknown_field = bytes([0x78, 0x01])  # field 15, varint 1: a field this SDK does not know
    for raw in (message + unknown_field, unknown_field + message):
        got = parse(raw)
        assert isinstance(got, memoryview)
        assert got.tobytes() == b"abc"


def test_run_artefact_chunks_decode_the_same() -> None:
    data = os.urandom(5000)
    raw = run_artefact_pb2.DownloadRunArtefactResponse(chunk=data).SerializeToString()
    got = chunk_or_message(run_artefact_pb2.DownloadRunArtefactResponse)(raw)
    assert isinstance(got, memoryview) and got.tobytes() == data
