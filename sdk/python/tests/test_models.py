"""The model registry from Python against the real server: log_model, aliases and their history, search, download, lineage, the CLI."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest
from support.files import sha256_of
from support.proxy import BreakingProxy
from support.server import ServerProcess, unique

import traintrack as tt
from traintrack._upload import UploadResult
from traintrack.cli import main

MiB = 1024 * 1024
SIGNATURE = {"inputs": [{"name": "tenure", "type": "long"}, {"name": "plan", "type": "string"}], "outputs": [{"name": "churn", "type": "double"}]}


def model_dir(root: Path, random_file: Callable[..., Path]) -> Path:
    """A model of several files: weights above 1 MiB (staged in segments), nested config, an empty file."""
    random_file(2 * MiB + 5, "model/weights.bin")
    random_file(40_000, "model/tokenizer/vocab.bin")
    (root / "model" / "config.json").write_text('{"max_depth": 6}\n')
    (root / "model" / "READY").write_bytes(b"")
    return root / "model"


def local_hashes(directory: Path) -> Dict[str, Tuple[int, str]]:
    return {p.relative_to(directory).as_posix(): (p.stat().st_size, sha256_of(p)) for p in directory.rglob("*") if p.is_file()}


def saved_dataset(client: tt.Client, tmp_path: Path) -> tt.DatasetVersion:
    csv = tmp_path / "churn.csv"
    csv.write_text("tenure,plan,churn\n1,basic,1\n24,pro,0\n")
    return client.datasets.save(tt.Dataset(name=unique("customer_churn"), version="1.0.1").add_file(csv))


def test_log_model_registers_the_runs_artefacts_and_an_alias_gets_it_back_byte_for_byte(
    client: tt.Client, tmp_path: Path, random_file: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique("churn-xgb")
    source = model_dir(tmp_path, random_file)
    uploads: List[str] = []
    upload_file = client._uploader.upload_file

    def counting(path: str, file_name: str, media_type: str) -> UploadResult:
        uploads.append(path)
        return upload_file(path, file_name, media_type)

    monkeypatch.setattr(client._uploader, "upload_file", counting)

    with client.start_run(project=unique("churn"), experiment="xgb") as run:
        mv = run.log_model(source, name=name, framework="xgboost", signature=SIGNATURE, description="# churn", tags={"stage": "dev"})
        again = run.log_model(source, name=name, framework="xgboost", signature=SIGNATURE, description="# churn", tags={"stage": "dev"})

    # Each file was uploaded once, as a run artefact; the registration copied nothing, and the retry returned the same version.
    assert len(uploads) == 4
    assert (mv.name, mv.version, mv.run_id, mv.framework, mv.signature, mv.tags) == (name, 1, run.id, "xgboost", SIGNATURE, {"stage": "dev"})
    assert again.version == 1 and [v.version for v in client.models.versions(name)] == [1]
    assert {a.name for a in run.artefacts(f"{name}/")} == {f"{name}/{p}" for p in local_hashes(source)}
    assert {f.name: (f.size, f.sha256) for f in mv.files} == local_hashes(source)
    assert mv.file_count == 4 and mv.total_size == sum(size for size, _ in local_hashes(source).values())
    model = client.models.get_model(name)
    assert model.project == run.info.project and model.latest_version == 1

    change = client.models.set_alias(name, "production", mv.version, reason="auc 0.93 on holdout")
    assert change.previous_version is None and change.alias.version == 1
    m = client.models.get(name, alias="production")
    assert m.version == 1 and m.aliases == ["production"] and m.description == "# churn"
    written = m.download(tmp_path / "serving")
    assert sorted(p.relative_to(tmp_path / "serving").as_posix() for p in written) == sorted(local_hashes(source))
    assert local_hashes(tmp_path / "serving") == local_hashes(source)
    assert (tmp_path / "serving" / "weights.bin").read_bytes() == (source / "weights.bin").read_bytes()
    with m.open("config.json", "r") as f:
        assert json.load(f) == {"max_depth": 6}
    assert client.models.get(name).version == 1 and client.models.get(name, version=1).run_id == run.id


def test_register_from_a_local_directory_of_several_files_numbers_versions_and_keeps_metadata(
    client: tt.Client, tmp_path: Path, random_file: Callable[..., Path]
) -> None:
    name = unique("local-model")
    source = model_dir(tmp_path, random_file)
    v1 = client.models.register(name, source, framework="onnx", signature=json.dumps(SIGNATURE), tags={"stage": "dev"}, description="first")
    single = tmp_path / "model.onnx"
    single.write_bytes(b"onnx bytes")
    v2 = client.models.register(name, single, framework="onnx", create_model=False)

    assert (v1.version, v2.version) == (1, 2) and v1.run_id is None
    assert {f.name: (f.size, f.sha256) for f in v1.files} == local_hashes(source) and v1.signature == SIGNATURE
    assert [f.name for f in v2.files] == ["model.onnx"] and v2.files[0].sha256 == sha256_of(single)
    assert [v.version for v in client.models.versions(name, page_size=1)] == [2, 1]
    updated = client.models.update_version(name, 1, description="first, reviewed", set_tags={"stage": "prod"})
    assert (updated.description, updated.tags, updated.files) == ("first, reviewed", {"stage": "prod"}, v1.files)
    v1.download(tmp_path / "out")
    assert local_hashes(tmp_path / "out") == local_hashes(source)
    assert name in [m.name for m in client.models.list(prefix=name)]

    with pytest.raises(tt.NotFound):
        client.models.register(unique("missing"), single, create_model=False)
    with pytest.raises(tt.NotFound):
        client.models.get(name, version=99)
    with pytest.raises(tt.NotFound):
        client.models.get(name, alias="nowhere")


def test_registering_a_runs_artefacts_by_prefix_uploads_nothing(
    client: tt.Client, tmp_path: Path, random_file: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique("from-run")
    source = model_dir(tmp_path, random_file)
    with client.start_run(project=unique("p"), experiment="e") as run:
        run.log_artefacts(source, prefix="model")
    monkeypatch.setattr(client._uploader, "upload_file", lambda *a: pytest.fail("registering run artefacts must not upload"))

    mv = client.models.register(name, tt.RunArtefacts(run, "model/"), framework="xgboost")
    assert mv.run_id == run.id and {f.name: (f.size, f.sha256) for f in mv.files} == local_hashes(source)
    assert client.models.register(name, tt.RunArtefacts(run.id, "model/"), framework="xgboost").version == mv.version  # same files: same version


def test_alias_history_keeps_every_move_and_answers_which_version_at_a_time(client: tt.Client, tmp_path: Path) -> None:
    name = unique("history")
    weights = tmp_path / "w.bin"
    for content in (b"one", b"two"):
        weights.write_bytes(content)
        client.models.register(name, weights)
    me = client.whoami()

    client.models.set_alias(name, "production", 1, reason="first release")
    moved = client.models.set_alias(name, "production", 2, reason="auc 0.93", protected=True)
    assert moved.previous_version == 1 and moved.alias.protected
    client.models.set_alias(name, "candidate", 2)
    client.models.delete_alias(name, "candidate", reason="promoted")

    history = client.models.alias_history(name, "production")
    assert [(m.from_version, m.to_version, m.reason) for m in history] == [(1, 2, "auc 0.93"), (None, 1, "first release")]
    assert me.user is not None and me.key is not None
    assert all(m.user_id == me.user.id and m.key_id == me.key.id and m.time is not None for m in history)
    first, second = history[1].time, history[0].time
    assert first is not None and second is not None and second > first
    assert client.models.alias_history(name, "production", at=first + (second - first) / 2).version_at == 1
    assert client.models.alias_history(name, "production", at=datetime.now(timezone.utc)).version_at == 2
    before = client.models.alias_history(name, "production", at=first - timedelta(days=1))
    assert before.version_at is None and len(before) == 2

    everything = client.models.alias_history(name)
    assert [(m.alias, m.to_version) for m in everything][:2] == [("candidate", None), ("candidate", 2)] and len(everything) == 4
    with pytest.raises(tt.NotFound):
        client.models.get(name, alias="candidate")
    production = client.models.get_model(name).alias("production")
    assert production is not None and (production.version, production.protected) == (2, True)
    assert client.models.get(name, alias="production").version == 2


def test_search_finds_versions_by_their_runs_metric_sorted_by_it(client: tt.Client, tmp_path: Path) -> None:
    name = unique("search")
    project = unique("churn")
    weights = tmp_path / "w.bin"
    aucs = [0.85, 0.95, 0.91, 0.7]
    for i, auc in enumerate(aucs):
        weights.write_bytes(f"weights {i}".encode())
        with client.start_run(project=project, experiment="xgb", params={"max_depth": 6 if i != 2 else 4}) as run:
            run.log({"auc": auc}, step=1)
            run.log_model(weights, name=name, framework="xgboost", tags={"stage": "prod" if i else "dev"})

    found = list(client.models.search(name, where="metrics.auc > 0.8", order_by="-metrics.auc", page_size=2))
    assert [(v.version, v.sort_metric) for v in found] == [(2, 0.95), (3, 0.91), (1, 0.85)]
    rising = client.models.search([name], where="metrics.auc >= 0.7 and params.max_depth = 6", order_by="metrics.auc")
    assert [v.version for v in rising] == [4, 1, 2]
    tagged = client.models.search(name, where="tags.stage = prod and framework = xgboost and metrics.auc < 0.92")
    assert sorted(v.version for v in tagged) == [3, 4]
    client.models.set_alias(name, "champion", 2)
    assert [v.version for v in client.models.search(name, alias="champion")] == [2]
    assert [v.version for v in client.models.search(name, where="alias = champion and metrics.auc < 0.9")] == []
    with pytest.raises(tt.InvalidArgument, match="'or' is not supported"):
        client.models.search(name, where="metrics.auc > 0.9 or metrics.auc < 0.1")


def test_lineage_goes_from_a_model_to_its_run_and_datasets_and_back(client: tt.Client, tmp_path: Path) -> None:
    data = saved_dataset(client, tmp_path)
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"weights")
    name = unique("lineage")
    with client.start_run(project=unique("churn"), experiment="xgb") as run:
        run.use_dataset(data)
        mv = run.log_model(weights, name=name)

    up = client.lineage(mv, direction="upstream")
    model_id, run_id, data_id = f"model:{name}@1", f"run:{run.id}", f"dataset:{data.ref}"
    assert up.root == model_id and {n.id for n in up.nodes} == {model_id, run_id, data_id}
    assert up.node(model_id).model == mv.ref and up.node(run_id).run_id == run.id and up.node(data_id).dataset == data.ref
    assert {(e.kind, e.from_id, e.to_id) for e in up.edges} == {("registered_as", run_id, model_id), ("read_by", data_id, run_id)}
    assert up.node(data_id).distance == 2 and not up.truncated

    down = client.lineage(data, direction="downstream", kinds=["model_version"])
    assert down.model_versions == [mv.ref]
    assert client.lineage(run).run_ids == [run.id] and mv.lineage(depth=1, direction="upstream").dataset_versions == []


def test_the_cli_shows_a_model_moves_an_alias_and_reads_its_history(client: tt.Client, server: ServerProcess, tmp_path: Path) -> None:
    name = unique("cli-model")
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"weights")
    client.models.register(name, weights, framework="onnx", signature=SIGNATURE)
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "TRAINTRACK_URL": server.url, "TRAINTRACK_API_KEY": server.api_key}

    def cli(*argv: str, code: int = 0) -> str:
        out, err = io.StringIO(), io.StringIO()
        assert main(list(argv), env=env, stdout=out, stderr=err) == code, err.getvalue()
        return out.getvalue()

    assert "production points to version 1 (new)" in cli("models", "alias", name, "production", "1", "--reason", "ship it", "--protect")
    shown = json.loads(cli("--json", "models", "show", name, "--alias", "production"))
    assert shown["version"]["version"] == 1 and shown["version"]["signature"] == SIGNATURE and shown["version"]["files"][0]["name"] == "w.bin"
    assert shown["model"]["aliases"][0]["alias"] == "production" and shown["model"]["aliases"][0]["protected"] is True
    assert "w.bin" in cli("models", "show", name) and name in cli("models", "ls", "--prefix", name)
    history = json.loads(cli("models", "history", name, "production", "--at", "2000-01-01", "--json"))
    assert history["version_at"] is None and history["moves"][0]["reason"] == "ship it"
    moved_at = datetime.fromisoformat(history["moves"][0]["time"].replace("Z", "+00:00")) + timedelta(milliseconds=1)
    assert "production pointed to version 1 at" in cli("models", "history", name, "production", "--at", moved_at.isoformat())
    cli("models", "show", unique("absent"), code=5)


def test_a_model_download_cut_mid_stream_resumes_and_is_verified(
    client: tt.Client, server: ServerProcess, proxy: BreakingProxy, random_file: Callable[..., Path], tmp_path: Path
) -> None:
    weights = random_file(12 * MiB + 3, "weights.bin")
    name = unique("resume")
    client.models.register(name, weights)
    retry = tt.RetryPolicy(max_retries=20, initial_backoff=0.2, max_backoff=5.0)
    with tt.Client(url=proxy.url, api_key=server.api_key, progress=False, retry=retry) as proxied:
        m = proxied.models.get(name, version=1)
        proxy.break_after(5 * MiB, direction="down")
        (path,) = m.download(tmp_path / "out")

    assert proxy.breaks == 1
    assert path.read_bytes() == weights.read_bytes()
