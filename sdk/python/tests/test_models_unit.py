"""The model registry's pure parts, without a server: the ``where`` language, signatures, requests, lineage starts, the CLI's arguments."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import traintrack as tt
from traintrack import _download, _lineage, _model_register
from traintrack._gen.v1 import experiment_pb2, lineage_pb2, model_pb2
from traintrack._model_models import parse_signature, signature_text
from traintrack._model_search import parse_order_by, parse_where
from traintrack._transport import RetryPolicy
from traintrack.cli import main
from traintrack.cli.main import build_parser

GT = experiment_pb2.MetricThreshold.OP_GREATER


def test_the_issues_where_becomes_the_requests_fields() -> None:
    found = parse_where("metrics.auc > 0.9 and params.max_depth = 6 and tags.stage = prod and framework = xgboost")
    assert found.metrics == [("auc", ">", 0.9)]
    assert found.params == {"max_depth": "6"} and found.tags == {"stage": "prod"} and found.framework == "xgboost"
    assert [(t.key, t.op, t.value) for t in found.thresholds()] == [("auc", GT, 0.9)]


def test_where_takes_every_metric_operator_quotes_keys_with_spaces_and_and_in_any_case() -> None:
    found = parse_where("metrics.a<1 AND metrics.b<=2 and metrics.c>=-3e-2 And metrics.\"val loss\" < 0.3 and metrics.train/loss > inf")
    assert found.metrics == [("a", "<", 1.0), ("b", "<=", 2.0), ("c", ">=", -0.03), ("val loss", "<", 0.3), ("train/loss", ">", float("inf"))]
    quoted = parse_where("tags.note = 'two words' and params.opt == \"adam \\\"w\\\"\" and alias = production")
    assert quoted.tags == {"note": "two words"} and quoted.params == {"opt": 'adam "w"'} and quoted.alias == "production"
    assert parse_where("  ") == parse_where("")
    assert parse_where("tags.a = 1 and tags.a = 1").tags == {"a": "1"}  # the same condition twice is harmless


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("metrics.auc > 0.9 or metrics.auc < 0.1", "'or' is not supported"),
        ("not framework = onnx", "'not' is not supported"),
        ("(metrics.auc > 0.9)", "'(' is not supported"),
        ("metrics.auc = 0.9", "compared with <, <=, > or >="),
        ("metrics.auc != 0.9", "compared with <, <=, > or >="),
        ("metrics.auc > high", "compared with a number"),
        ("metrics.auc > nan", "NaN"),
        ("params.max_depth > 6", "only be compared with '='"),
        ("framework != onnx", "only be compared with '='"),
        ("stage = prod", "unknown field 'stage'"),
        ("metrics. > 1", "unknown field"),
        ("name = churn", "unknown field"),
        ("framework = onnx and framework = xgboost", "cannot equal both"),
        ("tags.a = 1 and tags.a = 2", "cannot equal both"),
        ("metrics.auc > 0.9 and", "empty condition"),
        ("metrics.auc >", "not a condition"),
        ("metrics.auc > 0.9 0.8", "not a condition"),
        ("tags.note = 'open", "unclosed quote"),
        (" and ".join(f"metrics.m{i} > 0" for i in range(21)), "at most 20"),
    ],
)
def test_where_refuses_what_the_request_cannot_express(where: str, says: str) -> None:
    with pytest.raises(tt.InvalidArgument, match=says.replace("(", r"\(").replace(")", r"\)")):
        parse_where(where)


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [("", ("", False)), ("-metrics.auc", ("auc", True)), ("metrics.loss", ("loss", False)), ("+metrics.loss", ("loss", False)),
     ("metrics.auc DESC", ("auc", True)), ("metrics.auc asc", ("auc", False)), ("-metrics.'val loss'", ("val loss", True))],
)  # fmt: skip
def test_order_by_sorts_by_a_metric(order_by: str, expected: Tuple[str, bool]) -> None:
    assert parse_order_by(order_by) == expected


@pytest.mark.parametrize("order_by", ["-created_at", "params.lr", "metrics.", "auc"])
def test_order_by_refuses_anything_but_a_metric(order_by: str) -> None:
    with pytest.raises(tt.InvalidArgument, match="sorted by a metric"):
        parse_order_by(order_by)


def test_a_signature_dict_is_sent_as_json_and_read_back_parsed() -> None:
    sig = {"inputs": [{"name": "age", "type": "long"}], "outputs": [{"type": "double"}], "note": "naïve"}
    text = signature_text(sig)
    assert json.loads(text) == sig and "naïve" in text
    assert parse_signature(text) == sig
    assert signature_text('{"inputs": []}') == '{"inputs": []}'  # JSON text passes as is
    assert signature_text(None) == "" and parse_signature("") is None
    assert parse_signature("not json") == "not json"  # another client's text is shown, not lost
    with pytest.raises(tt.InvalidArgument, match="not JSON"):
        signature_text("{inputs: }")
    with pytest.raises(tt.InvalidArgument, match="cannot be sent as JSON"):
        signature_text({"inputs": object()})
    with pytest.raises(tt.InvalidArgument, match="cannot be sent as JSON"):
        signature_text({"threshold": float("nan")})


def test_a_version_request_carries_the_metadata_and_its_derived_id_names_exactly_what_is_registered() -> None:
    request = _model_register.build_request(
        "churn-xgb", run="run_1", framework="xgboost", signature={"inputs": []}, description="card", tags={"stage": "dev", "n": 3},
        project="churn", create_model=True,
    )  # fmt: skip
    assert (request.model, request.run_id, request.framework, request.signature) == ("churn-xgb", "run_1", "xgboost", '{"inputs":[]}')
    assert dict(request.tags) == {"stage": "dev", "n": "3"} and request.create_model and request.project == "churn"
    files = [("a.bin", "11"), ("b.json", "22")]
    first = _model_register.derived_request_id(request, files)
    assert first == _model_register.derived_request_id(request, list(reversed(files))) and len(first.encode()) <= 64  # the server's limit
    assert first != _model_register.derived_request_id(request, [("a.bin", "11"), ("b.json", "23")])
    other = model_pb2.CreateModelVersionRequest()
    other.CopyFrom(request)
    other.framework = "lightgbm"
    assert first != _model_register.derived_request_id(other, files)


def test_run_artefacts_name_a_run_by_object_or_id() -> None:
    info = tt.RunInfo("run_7", "p", "e", "", "running", None, None, {}, {}, [], "", None, "")
    assert tt.RunArtefacts(info, "model/").run_id == "run_7"
    assert tt.RunArtefacts("run_8")._to_proto() == model_pb2.RunArtefactFiles(run_id="run_8", path_prefix="")
    with pytest.raises(tt.InvalidArgument, match="not a run"):
        tt.RunArtefacts("")


class FakeTransport:
    """Answers ModelService calls with canned responses and keeps the requests (the client's calls are the unit here)."""

    def __init__(self, responses: List[Any]) -> None:
        self.responses = responses
        self.requests: List[Any] = []
        self.models = self
        self.retry = RetryPolicy()

    def __getattr__(self, method: str) -> str:
        return method

    def call(self, method: str, request: Any, *, what: str, retry: bool = True) -> Any:
        self.requests.append((method, request))
        return self.responses.pop(0)


def fake_client(responses: List[Any]) -> Tuple[tt.Client, FakeTransport]:
    client = tt.Client(url="http://127.0.0.1:9", api_key="k")
    client.close()
    fake = FakeTransport(responses)
    client._transport = client.models._t = fake  # type: ignore[assignment]
    return client, fake


def test_search_builds_one_request_per_page_from_where_and_order_by() -> None:
    page1 = model_pb2.SearchModelVersionsResponse(versions=[model_pb2.ModelVersion(model="m", version=3, sort_metric=0.95)], next_page_token="t")
    page2 = model_pb2.SearchModelVersionsResponse(versions=[model_pb2.ModelVersion(model="m", version=1)])
    client, fake = fake_client([page1, page2])
    found = client.models.search("m", where="metrics.auc > 0.9 and tags.stage = prod", order_by="-metrics.auc", alias="champion", page_size=1)
    assert fake.requests == []  # lazy
    versions = list(found)
    assert [(v.version, v.sort_metric) for v in versions] == [(3, 0.95), (1, None)]
    (method, request), (_, second) = fake.requests
    assert method == "SearchModelVersions" and list(request.models) == ["m"] and request.alias == "champion"
    assert [(t.key, t.op, t.value) for t in request.run_metrics] == [("auc", GT, 0.9)] and dict(request.tags) == {"stage": "prod"}
    assert (request.order_by_metric, request.descending, request.page_size, second.page_token) == ("auc", True, 1, "t")
    with pytest.raises(tt.InvalidArgument, match="contradict"):
        client.models.search(where="alias = a", alias="b")


def test_alias_history_with_at_says_the_version_then_and_reads_every_page() -> None:
    move = model_pb2.AliasMove(alias="production", from_version=0, to_version=2, user_id="u_1", key_id="k_1", reason="first")
    client, fake = fake_client([
        model_pb2.GetModelAliasHistoryResponse(moves=[move], next_page_token="t", version_at=2),
        model_pb2.GetModelAliasHistoryResponse(moves=[move], version_at=2),
    ])  # fmt: skip
    history = client.models.alias_history("m", "production", at=datetime(2026, 3, 3, 12, 0))
    assert history.version_at == 2 and len(history) == 2 and history[0].from_version is None and history[0].to_version == 2
    request = fake.requests[0][1]
    assert request.at.ToDatetime(tzinfo=timezone.utc) == datetime(2026, 3, 3, 12, 0, tzinfo=timezone.utc)  # naive is UTC
    with pytest.raises(tt.InvalidArgument, match="needs an alias"):
        client.models.alias_history("m", at=datetime(2026, 3, 3))


def test_set_alias_sends_protection_only_when_asked_and_get_takes_one_selector() -> None:
    answer = model_pb2.SetModelAliasResponse(alias=model_pb2.ModelAlias(alias="production", version=3, protected=True), previous_version=2)
    client, fake = fake_client([answer, answer])
    change = client.models.set_alias("m", "production", 3, reason="better", protected=True)
    assert change.previous_version == 2 and change.alias.protected and fake.requests[0][1].HasField("protected")
    client.models.set_alias("m", "production", 3)
    assert not fake.requests[1][1].HasField("protected")
    with pytest.raises(tt.InvalidArgument, match="not both"):
        client.models.get("m", version=1, alias="production")
    with pytest.raises(tt.InvalidArgument, match="not a source of files"):
        client.models.register("m", [tt.Artefact("model/w.bin", 1, "0" * 64, "")])  # type: ignore[arg-type]  # run.artefacts() lists, it names no run


def test_lineage_starts_from_anything_with_a_node_id() -> None:
    assert _lineage.start_request(tt.ModelRef("churn", 3))[1] == lineage_pb2.GetLineageGraphRequest(model=lineage_pb2.ModelVersionRef(model="churn", version=3))
    assert _lineage.start_request("model:churn@3")[0] == "model:churn@3"
    assert _lineage.start_request("run_abc")[1].run_id == "run_abc"
    assert _lineage.start_request("run:run_abc")[0] == "run:run_abc"
    root, request = _lineage.start_request(tt.DatasetRef("customer_churn", "1.0.1"))
    assert root == "dataset:customer_churn@1.0.1" and request.dataset.version == "1.0.1"
    assert _lineage.start_request("dataset:a@b@1.0")[1].dataset.name == "a@b"
    for bad in ("churn-xgb", "model:churn@latest", "model:@3", "dataset:x"):
        with pytest.raises(tt.InvalidArgument, match="not a lineage node"):
            _lineage.start_request(bad)
    _, full = _lineage.graph_request("run_a", depth=2, direction="upstream", kinds=["dataset_version", "run"], max_nodes=50)
    assert (full.depth, full.direction, list(full.kinds), full.max_nodes) == (
        2, lineage_pb2.LINEAGE_DIRECTION_UPSTREAM, [lineage_pb2.LINEAGE_NODE_KIND_DATASET_VERSION, lineage_pb2.LINEAGE_NODE_KIND_RUN], 50,
    )  # fmt: skip
    with pytest.raises(tt.InvalidArgument, match="direction"):
        _lineage.graph_request("run_a", depth=0, direction="sideways", kinds=None, max_nodes=0)
    with pytest.raises(tt.InvalidArgument, match="node kinds"):
        _lineage.graph_request("run_a", depth=0, direction="both", kinds=["model"], max_nodes=0)


def test_a_lineage_response_becomes_typed_nodes_and_edges() -> None:
    response = lineage_pb2.GetLineageGraphResponse(truncated=True)
    response.nodes.add(kind=lineage_pb2.LINEAGE_NODE_KIND_MODEL_VERSION, id="model:m@1", label="m v1", model=lineage_pb2.ModelVersionRef(model="m", version=1))
    response.nodes.add(kind=lineage_pb2.LINEAGE_NODE_KIND_RUN, id="run:run_1", label="e/run", run_id="run_1", distance=1)
    edge = response.edges.add(kind=lineage_pb2.LINEAGE_EDGE_KIND_REGISTERED_AS, to="model:m@1")
    setattr(edge, "from", "run:run_1")
    graph = _lineage.graph_from("model:m@1", response)
    assert graph.truncated and graph.model_versions == [tt.ModelRef("m", 1)] and graph.run_ids == ["run_1"]
    assert graph.edges == (tt.LineageGraphEdge("registered_as", "run:run_1", "model:m@1"),)
    assert graph.node("run:run_1").distance == 1 and graph.of_kind("run")[0].dataset is None


def test_model_files_download_through_the_shared_reader_checking_sha256() -> None:
    data = b"weights" * 1000
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    artefact = tt.Artefact("w.bin", len(data), digest, "application/octet-stream")

    def open_at(path: str, offset: int) -> Iterator[_download.DownloadResponse]:
        yield model_pb2.DownloadModelFileResponse(file=model_pb2.ModelFile(path=path, size=len(data), sha256=digest))
        yield memoryview(data[offset:])

    fake = FakeTransport([])
    stream = _download.ArtefactStream(fake, artefact, open_at, "m@1")  # type: ignore[arg-type]
    assert stream.read() == data
    bad = tt.Artefact("w.bin", len(data), "0" * 64, "application/octet-stream")
    with pytest.raises(tt.DataLoss, match="changed on the server"):
        _download.ArtefactStream(fake, bad, open_at, "m@1").read()  # type: ignore[arg-type]


def parse(*argv: str) -> Any:
    return build_parser().parse_args(list(argv))


def test_cli_arguments_of_models() -> None:
    assert parse("models", "alias", "m", "production", "3").protected is None
    moved = parse("models", "alias", "m", "production", "3", "--reason", "auc 0.93", "--protect")
    assert (moved.name, moved.alias, moved.version, moved.reason, moved.protected) == ("m", "production", 3, "auc 0.93", True)
    assert parse("models", "alias", "m", "production", "3", "--unprotect").protected is False
    assert parse("models", "show", "m", "--alias", "production").alias == "production"
    assert parse("models", "show", "m", "--version", "2").version == 2
    assert parse("models", "history", "m").alias is None and parse("models", "history", "m", "production", "--at", "3d").at == "3d"
    assert parse("--json", "models", "ls", "--project", "churn").project == "churn"


@pytest.mark.parametrize(
    "argv",
    [
        ["models", "alias", "m", "production", "three"],
        ["models", "alias", "m", "production", "3", "--protect", "--unprotect"],
        ["models", "show", "m", "--version", "2", "--alias", "production"],
        ["models", "history", "m", "--at", "3d"],
        ["models", "history", "m", "production", "--at", "soon"],
        ["models", "alias", "m", "production", "0"],
    ],
)
def test_cli_models_usage_errors_exit_2_before_any_call(argv: List[str], tmp_path: Any) -> None:
    out, err = io.StringIO(), io.StringIO()
    env: Dict[str, str] = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "TRAINTRACK_URL": "http://127.0.0.1:9", "TRAINTRACK_API_KEY": "k"}
    assert main(argv, env=env, stdout=out, stderr=err) == 2
    assert out.getvalue() == "" and err.getvalue().startswith("traintrack: error: ")
