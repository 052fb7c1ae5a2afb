"""The package itself: importable without a server, typed, configured from the environment, generated code fresh."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.server import REPO_ROOT

import traintrack as tt
from traintrack._paths import safe_join
from traintrack._transport import parse_target

GENERATED = Path("sdk/python/src/traintrack/_gen")


def test_imports_without_a_server_and_without_pandas() -> None:
    code = (
        "import sys, traintrack as tt\n"
        "client = tt.Client(url='http://127.0.0.1:9', api_key='k')\n"
        "client.close()\n"
        "assert 'pandas' not in sys.modules and 'pyarrow' not in sys.modules, 'pandas imported eagerly'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_is_a_typed_package() -> None:
    assert (Path(tt.__file__).parent / "py.typed").is_file()
    for name in tt.__all__:
        assert getattr(tt, name).__doc__, f"tt.{name} has no docstring"


def test_client_reads_url_and_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRAINTRACK_API_KEY", raising=False)
    with pytest.raises(tt.ConfigurationError, match="TRAINTRACK_API_KEY"):
        tt.Client()
    monkeypatch.setenv("TRAINTRACK_API_KEY", "tt_key")
    monkeypatch.setenv("TRAINTRACK_URL", "http://example.invalid:1234")
    with tt.Client() as client:
        assert client.url == "http://example.invalid:1234"


def test_urls() -> None:
    assert parse_target("http://localhost:8080") == ("localhost:8080", False)
    assert parse_target("localhost:8080") == ("localhost:8080", False)
    assert parse_target("https://tt.example.com") == ("tt.example.com:443", True)
    assert parse_target("http://[::1]:9") == ("[::1]:9", False)
    for bad in ("ftp://x", "http://host:8080/api", "http://"):
        with pytest.raises(tt.ConfigurationError):
            parse_target(bad)


def test_download_paths_never_leave_the_directory(tmp_path: Path) -> None:
    root = tmp_path / "out"
    root.mkdir()
    assert safe_join(root, "train/a.csv") == (root / "train" / "a.csv").resolve()
    for bad in ("../x", "a/../../x", "/etc/passwd"):
        with pytest.raises(tt.InvalidArgument):
            safe_join(root, bad)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, root / "link")
    with pytest.raises(tt.InvalidArgument, match="outside"):
        safe_join(root, "link/x.csv")


def committed(relative: Path) -> "bytes | None":
    """A file as staged in git (what `git diff` compares with), else as in the work tree, else None.

    The staged copy matters under `npm test`, which runs `buf generate` in the work tree before the tests.
    """
    shown = subprocess.run(["git", "show", f":{relative.as_posix()}"], cwd=REPO_ROOT, capture_output=True, check=False)
    if shown.returncode == 0:
        return shown.stdout
    path = REPO_ROOT / relative
    return path.read_bytes() if path.is_file() else None


@pytest.mark.skipif(shutil.which("npx") is None, reason="needs node and the repository's npm packages")
def test_generated_code_is_what_buf_generate_writes(tmp_path: Path) -> None:
    """traintrack/_gen must be regenerated (npm run generate) and committed whenever proto/ changes."""
    subprocess.run(["npx", "--no", "--", "buf", "generate", "-o", str(tmp_path)], cwd=REPO_ROOT, check=True, timeout=300)
    fresh = tmp_path / GENERATED
    generated = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
    stale = [str(r) for r in sorted(generated) if committed(GENERATED / r) != (fresh / r).read_bytes()]
    in_tree = {p.relative_to(REPO_ROOT / GENERATED) for p in (REPO_ROOT / GENERATED).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    stale += [f"{r} (no longer generated)" for r in sorted(in_tree - generated)]
    assert not stale, f"sdk/python/src/traintrack/_gen is stale: run 'npm run generate' and commit the result: {stale}"


@pytest.mark.parametrize("size", [1, 127, 128, 16383, 16384, 1024 * 1024, 4 * 1024 * 1024 + 3])
def test_hand_framed_chunks_are_what_protobuf_writes(size: int) -> None:
    from traintrack._gen.v1 import upload_pb2
    from traintrack._upload import chunk_message

    data = os.urandom(size)
    assert chunk_message(data) == upload_pb2.UploadRequest(chunk=data).SerializeToString()


def test_the_sdk_type_checks_strictly(tmp_path: Path) -> None:
    sdk = REPO_ROOT / "sdk" / "python"
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path)], cwd=sdk, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_progress_bars_follow_the_argument_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from traintrack import _progress

    monkeypatch.delenv("TRAINTRACK_PROGRESS", raising=False)
    assert _progress.resolve(None) is None  # automatic: on a terminal only
    monkeypatch.setenv("TRAINTRACK_PROGRESS", "0")
    assert _progress.resolve(None) is False
    assert _progress.resolve(True) is True
    monkeypatch.setenv("TRAINTRACK_PROGRESS", "1")
    assert _progress.resolve(None) is True
    assert _progress.resolve(False) is False
    assert _progress.bar(10, "x", False).disable
