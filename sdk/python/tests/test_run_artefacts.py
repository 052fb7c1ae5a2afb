"""Run artefacts from Python: logged all or none, never uploaded twice, read back byte for byte, by the run or by its id."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable, Iterator, List

import pytest
from support.files import sha256_of
from support.proxy import BreakingProxy
from support.server import ServerProcess, unique

import traintrack as tt
from traintrack import _run_artefacts
from traintrack._gen.v1 import upload_pb2
from traintrack._upload import UploadResult

MiB = 1024 * 1024
UNKNOWN_RUN = "run_0000000000000000000000000"  # well-formed, never issued


@pytest.fixture
def run(client: tt.Client) -> Iterator[tt.Run]:
    with client.start_run(project=unique("artefacts"), experiment="e") as r:
        yield r


class UploadSpy:
    """Records the uploads and aborts of a client's uploader, and can refuse to upload at all."""

    def __init__(self, client: tt.Client, monkeypatch: pytest.MonkeyPatch) -> None:
        self.uploaded: List[UploadResult] = []
        self.aborted: List[str] = []
        self.forbidden = False
        uploader = client._uploader
        upload_file, abort = uploader.upload_file, uploader.abort

        def spy_upload(path: str, file_name: str, media_type: str) -> UploadResult:
            if self.forbidden:
                raise AssertionError(f"{file_name} was uploaded, but nothing should have been")
            result = upload_file(path, file_name, media_type)
            self.uploaded.append(result)
            return result

        def spy_abort(upload_id: str) -> None:
            self.aborted.append(upload_id)
            abort(upload_id)

        monkeypatch.setattr(uploader, "upload_file", spy_upload)
        monkeypatch.setattr(uploader, "abort", spy_abort)


def upload_state(client: tt.Client, upload_id: str) -> int:
    t = client._transport
    state: int = t.call(t.uploads.GetUpload, upload_pb2.GetUploadRequest(upload_id=upload_id), what="GetUpload").upload.state
    return state


def checkpoint_dir(root: Path, random_file: Callable[..., Path]) -> Path:
    """A small tree: nested directories, an empty file, text and binary."""
    random_file(300_000, "ckpt/epoch-1/weights.bin")
    random_file(5_000, "ckpt/epoch-2/weights.bin")
    (root / "ckpt" / "config.json").write_text('{"lr": 0.1}\n')
    (root / "ckpt" / "epoch-2" / "DONE").write_bytes(b"")
    return root / "ckpt"


def test_a_file_and_a_directory_logged_to_a_run_read_back_byte_for_byte(
    client: tt.Client, run: tt.Run, tmp_path: Path, random_file: Callable[..., Path]
) -> None:
    model = random_file(2 * MiB + 17, "model.pt")  # above 1 MiB: staged in segments, composed at commit
    notes = tmp_path / "notes.txt"
    notes.write_text("val loss 0.12 at epoch 2\nnaïve baseline 0.3\n")
    ckpt = checkpoint_dir(tmp_path, random_file)

    logged = run.log_artefact(model)
    assert (logged.name, logged.size, logged.sha256, logged.media_type) == ("model.pt", model.stat().st_size, sha256_of(model), "application/octet-stream")
    text = run.log_artefact(notes, name="reports/notes.txt")
    assert (text.name, text.media_type) == ("reports/notes.txt", "text/plain")
    tree = run.log_artefacts(ckpt, prefix="checkpoints")
    expected_tree = ["checkpoints/config.json", "checkpoints/epoch-1/weights.bin", "checkpoints/epoch-2/DONE", "checkpoints/epoch-2/weights.bin"]
    assert [a.name for a in tree] == expected_tree
    assert {a.name: (a.size, a.sha256) for a in tree} == {
        f"checkpoints/{p.relative_to(ckpt).as_posix()}": (p.stat().st_size, sha256_of(p)) for p in ckpt.rglob("*") if p.is_file()
    }

    listed = run.artefacts()
    assert [a.name for a in listed] == sorted(["model.pt", "reports/notes.txt", *expected_tree])
    assert {a.name: a for a in listed}["model.pt"] == logged
    assert run.artefacts("checkpoints/epoch-2/") == [a for a in tree if a.name.startswith("checkpoints/epoch-2/")]

    with run.open_artefact("model.pt") as stream:
        hasher = hashlib.sha256()
        for block in iter(lambda: stream.read(MiB // 3), b""):
            hasher.update(block)
    assert hasher.hexdigest() == logged.sha256
    with run.open_artefact("reports/notes.txt", "r") as reader:
        assert reader.read() == notes.read_text()
    with run.open_artefact("model.pt") as stream:
        stream.seek(-100, os.SEEK_END)
        assert stream.read() == model.read_bytes()[-100:]
        stream.seek(MiB + 5)
        assert stream.read(10) == model.read_bytes()[MiB + 5 : MiB + 15]
    with run.open_artefact("checkpoints/epoch-2/DONE") as empty:
        assert empty.read() == b""

    written = run.download_artefacts(tmp_path / "out")
    out = tmp_path / "out"
    assert [p.relative_to(out).as_posix() for p in written] == [a.name for a in listed]
    assert (out / "model.pt").read_bytes() == model.read_bytes()
    assert (out / "reports" / "notes.txt").read_text() == notes.read_text()
    assert all(sha256_of(out / a.name) == a.sha256 for a in listed)
    assert not list(out.rglob("*.part"))

    some = run.download_artefacts(tmp_path / "some", names=["checkpoints/config.json"])
    assert some == [(tmp_path / "some" / "checkpoints" / "config.json").resolve()]
    assert some[0].read_text() == '{"lr": 0.1}\n'


def test_the_same_bytes_again_upload_nothing_and_other_bytes_are_already_exists_before_uploading(
    client: tt.Client, run: tt.Run, tmp_path: Path, random_file: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = random_file(2 * MiB + 1, "model.pt")
    ckpt = checkpoint_dir(tmp_path, random_file)
    first = run.log_artefact(model)
    tree = run.log_artefacts(ckpt)

    spy = UploadSpy(client, monkeypatch)
    spy.forbidden = True
    assert run.log_artefact(model) == first  # a retried script: nothing uploaded, nothing changed
    assert run.log_artefacts(ckpt) == tree

    # Other bytes under a path the run has: refused before a byte is sent, naming the path.
    with open(model, "r+b") as f:
        f.write(b"changed")
    with pytest.raises(tt.AlreadyExists, match=r'already has other content at "model.pt".*another name'):
        run.log_artefact(model)
    (ckpt / "config.json").write_text('{"lr": 0.2}\n')  # same size: found by its sha256
    (ckpt / "new.txt").write_text("not logged: the directory is refused as a whole\n")
    with pytest.raises(tt.AlreadyExists, match=r'"config.json".*sha256'):
        run.log_artefacts(ckpt)
    assert spy.uploaded == []
    assert sorted(a.name for a in run.artefacts()) == sorted(["model.pt", *(a.name for a in tree)])

    spy.forbidden = False
    assert run.log_artefact(model, name="model-2.pt").sha256 == sha256_of(model)


def test_a_directory_is_logged_all_or_none_when_the_server_refuses_one_file(
    client: tt.Client, run: tt.Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "plots"
    tree.mkdir()
    (tree / "a.txt").write_text("a")
    (tree / "b.txt").write_text("b")
    (tree / "c\u0085.txt").write_text("c")  # U+0085 is a C1 control character: the server refuses the name
    spy = UploadSpy(client, monkeypatch)

    with pytest.raises(tt.InvalidArgument, match="control character"):
        run.log_artefacts(tree)

    assert run.artefacts() == []
    assert sorted(spy.aborted) == sorted(u.upload_id for u in spy.uploaded)  # the staged uploads are freed
    assert all(upload_state(client, u.upload_id) == upload_pb2.UPLOAD_STATE_DISCARDED for u in spy.uploaded)

    (tree / "c\u0085.txt").unlink()
    assert [a.name for a in run.log_artefacts(tree)] == ["a.txt", "b.txt"]


def test_a_path_taken_by_another_writer_meanwhile_commits_nothing_of_the_directory(
    server: ServerProcess, client: tt.Client, run: tt.Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = tmp_path / "eval"
    tree.mkdir()
    for name in ("metrics.json", "preds.csv", "report.txt"):
        (tree / name).write_text(f"{name}\n")
    rival = tmp_path / "rival.txt"
    rival.write_text("another writer's report\n")
    spy = UploadSpy(client, monkeypatch)
    upload_file = client._uploader.upload_file

    def upload_then_race(path: str, file_name: str, media_type: str) -> UploadResult:
        result = upload_file(path, file_name, media_type)
        if file_name == "report.txt":  # the last one: the SDK checked the paths before the first upload
            with tt.Client(url=server.url, api_key=server.api_key, progress=False) as other:
                other.runs.log_artefact(run.id, rival, name="report.txt")
        return result

    monkeypatch.setattr(client._uploader, "upload_file", upload_then_race)

    with pytest.raises(tt.AlreadyExists, match='already has an artefact "report.txt" with other content'):
        run.log_artefacts(tree)

    assert [a.name for a in run.artefacts()] == ["report.txt"]  # the rival's only
    assert len(spy.uploaded) == 3 and sorted(spy.aborted) == sorted(u.upload_id for u in spy.uploaded)


def test_more_than_a_call_can_take_is_committed_in_calls_each_all_or_none(
    client: tt.Client, run: tt.Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_run_artefacts, "MAX_ARTEFACTS_PER_CALL", 2)  # 1,000 on a real directory
    tree = tmp_path / "shards"
    tree.mkdir()
    for i in range(5):
        (tree / f"part-{i}.txt").write_text(f"shard {i}\n")
    stub = client._transport.run_artefacts
    log_run_artefacts = stub.LogRunArtefacts
    calls: List[int] = []

    def second_call_fails(request: object, **kwargs: object) -> object:
        calls.append(len(request.artefacts))  # type: ignore[attr-defined]
        if len(calls) == 2:
            raise tt.Unavailable("the network went away between two calls")
        return log_run_artefacts(request, **kwargs)

    monkeypatch.setattr(stub, "LogRunArtefacts", second_call_fails)
    spy = UploadSpy(client, monkeypatch)

    with pytest.raises(tt.Unavailable):
        run.log_artefacts(tree)
    assert calls == [2, 2]  # every file was uploaded before the first call
    assert len(spy.uploaded) == 5
    assert [a.name for a in run.artefacts()] == ["part-0.txt", "part-1.txt"]  # the first call's, whole

    uploaded_before = len(spy.uploaded)
    logged = run.log_artefacts(tree)  # again: what the run has is skipped
    assert [a.name for a in logged] == [f"part-{i}.txt" for i in range(5)]
    assert len(spy.uploaded) - uploaded_before == 3
    assert calls[2:] == [2, 1]


def test_another_process_reads_a_runs_artefacts_by_its_id(
    server: ServerProcess, client: tt.Client, tmp_path: Path, random_file: Callable[..., Path]
) -> None:
    data = random_file(1500, "preds.bin")
    with client.start_run(project=unique("eval"), experiment="e") as run:
        run.log_artefact(data, name="out/preds.bin", media_type="application/x-preds")
        run_id = run.id

    with tt.Client(url=server.url, api_key=server.api_key, progress=False) as other:
        (artefact,) = other.runs.artefacts(run_id)
        assert (artefact.name, artefact.size, artefact.media_type) == ("out/preds.bin", 1500, "application/x-preds")
        assert other.runs.artefacts(run_id, prefix="in/") == []
        with other.runs.open_artefact(run_id, "out/preds.bin") as stream:
            assert stream.read() == data.read_bytes()
        (path,) = other.runs.download_artefacts(run_id, tmp_path / "copy")
        assert path.read_bytes() == data.read_bytes()
        # An ended run still takes artefacts, from anyone with its id.
        (tmp_path / "late.txt").write_text("evaluated later\n")
        assert other.runs.log_artefact(run_id, tmp_path / "late.txt").name == "late.txt"
    assert [a.name for a in run.artefacts()] == ["late.txt", "out/preds.bin"]


def test_an_unknown_run_or_artefact_is_not_found_and_a_bad_name_invalid_before_uploading(
    client: tt.Client, run: tt.Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "model.pt"
    file.write_bytes(b"weights")
    spy = UploadSpy(client, monkeypatch)
    spy.forbidden = True

    for call in (
        lambda: client.runs.log_artefact(UNKNOWN_RUN, file),
        lambda: client.runs.log_artefacts(UNKNOWN_RUN, tmp_path),
        lambda: client.runs.artefacts(UNKNOWN_RUN),
        lambda: client.runs.open_artefact(UNKNOWN_RUN, "model.pt"),
        lambda: client.runs.download_artefacts(UNKNOWN_RUN, tmp_path / "out"),
        lambda: client.runs.artefacts("nope"),
    ):
        with pytest.raises(tt.NotFound, match=r'run ".*" not found'):
            call()

    with pytest.raises(tt.NotFound, match='has no artefact "absent.bin"'):
        run.open_artefact("absent.bin")
    with pytest.raises(tt.NotFound, match="absent.bin"):
        run.download_artefacts(tmp_path / "out", names=["absent.bin"])
    for bad in ("../model.pt", "/model.pt", "a//b.pt"):
        with pytest.raises(tt.InvalidArgument):
            run.log_artefact(file, name=bad)
    with pytest.raises(FileNotFoundError):
        run.log_artefact(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="mode"):
        run.open_artefact("model.pt", "w")
    assert not (tmp_path / "out").exists()


def test_a_run_artefact_download_cut_mid_stream_resumes_and_is_verified(
    client: tt.Client, run: tt.Run, proxy: BreakingProxy, server: ServerProcess, random_file: Callable[..., Path], tmp_path: Path
) -> None:
    data = random_file(3 * MiB + 3, "big.bin")
    run.log_artefact(data)

    retry = tt.RetryPolicy(max_retries=20, initial_backoff=0.2, max_backoff=5.0)
    with tt.Client(url=proxy.url, api_key=server.api_key, progress=False, retry=retry) as proxied:
        proxy.break_after(MiB, direction="down")
        (path,) = proxied.runs.download_artefacts(run.id, tmp_path / "out")
        assert proxy.breaks == 1
        assert path.read_bytes() == data.read_bytes()

        proxy.break_after(MiB + MiB // 2, direction="down")
        with proxied.runs.open_artefact(run.id, "big.bin") as stream:
            assert hashlib.sha256(stream.read()).hexdigest() == sha256_of(data)
        assert proxy.breaks == 2
