"""A buf plugin that generates the SDK's Python code for the traintrack.* protos.

buf can call protoc's built-in ``python`` and ``pyi`` generators, but not
``grpc_python``, which exists only inside grpcio-tools' protoc. So this plugin
reads buf's CodeGeneratorRequest, runs grpcio-tools' protoc on the same
descriptors with all three generators, and answers with the files.

It also moves the files into the SDK's package: protoc writes
``traintrack/v1/upload_pb2.py`` importing ``traintrack.v1``, a module that does
not exist (``traintrack`` is the SDK). The files are emitted as
``v1/upload_pb2.py`` under the output directory (``traintrack/_gen``) and every
module reference is rewritten to ``traintrack._gen.v1``, including the module
name the messages are registered under (which pickle relies on). Proto names
such as ``/traintrack.v1.UploadService/Upload`` are left untouched.

The output depends on the generator version, so the plugin refuses to run with
another grpcio-tools than the one pinned in pyproject.toml: ``buf generate``
must reproduce the committed files exactly.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import tomllib
from importlib import metadata
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2

PROTO_PACKAGE_ROOT = "traintrack"
PYTHON_PACKAGE = "traintrack._gen"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"

_IMPORT = re.compile(rf"^(from|import) {PROTO_PACKAGE_ROOT}\.", re.MULTILINE)
_REGISTERED_MODULE = re.compile(rf"(BuildTopDescriptorsAndMessages\(DESCRIPTOR, '){PROTO_PACKAGE_ROOT}\.")


def pinned_grpcio_tools() -> str:
    """The exact grpcio-tools version that pyproject.toml's extras pin."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    for requirements in project.get("optional-dependencies", {}).values():
        for requirement in requirements:
            match = re.fullmatch(r"grpcio-tools\s*==\s*([\w.]+)", requirement.strip())
            if match:
                return match.group(1)
    raise SystemExit(f"protoc-gen-traintrack-python: no 'grpcio-tools==X' pin in {PYPROJECT}")


def rewrite(text: str) -> str:
    """Points module references at the SDK's package instead of the bare proto package."""
    text = _IMPORT.sub(rf"\1 {PYTHON_PACKAGE}.", text)
    return _REGISTERED_MODULE.sub(rf"\g<1>{PYTHON_PACKAGE}.", text)


def generate(request: plugin_pb2.CodeGeneratorRequest) -> plugin_pb2.CodeGeneratorResponse:
    response = plugin_pb2.CodeGeneratorResponse(
        supported_features=plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL,
    )
    # buf's per-plugin type filters apply to every input and fail on inputs
    # without traintrack types, so the health and reflection protos arrive too:
    # the SDK does not use them.
    files = [f for f in request.file_to_generate if f.startswith(f"{PROTO_PACKAGE_ROOT}/")]
    if not files:
        return response
    with tempfile.TemporaryDirectory() as tmp:
        descriptors = Path(tmp, "descriptors.binpb")
        descriptors.write_bytes(descriptor_pb2.FileDescriptorSet(file=request.proto_file).SerializeToString())
        out = Path(tmp, "out")
        out.mkdir()
        # A subprocess, so that nothing protoc prints can reach our stdout (the response).
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "grpc_tools.protoc",
                f"--descriptor_set_in={descriptors}",
                f"--python_out={out}",
                f"--pyi_out={out}",
                f"--grpc_python_out={out}",
                *files,
            ],
            stdout=sys.stderr,
            check=False,
        )
        if done.returncode != 0:
            response.error = f"grpcio-tools protoc exited with status {done.returncode}"
            return response
        packages = {""}
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            relative = path.relative_to(out / PROTO_PACKAGE_ROOT).as_posix()
            response.file.add(name=relative, content=rewrite(path.read_text(encoding="utf-8")))
            parent = relative.rpartition("/")[0]
            while parent:
                packages.add(parent)
                parent = parent.rpartition("/")[0]
    for package in sorted(packages):
        name = f"{package}/__init__.py" if package else "__init__.py"
        response.file.add(name=name, content="")
    return response


def main() -> None:
    installed = metadata.version("grpcio-tools")
    pinned = pinned_grpcio_tools()
    if installed != pinned:
        raise SystemExit(
            f"protoc-gen-traintrack-python: grpcio-tools {installed} is installed, but the committed code is "
            f"generated with {pinned} (pyproject.toml): run test/scripts/install-tools.sh"
        )
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    sys.stdout.buffer.write(generate(request).SerializeToString())


if __name__ == "__main__":
    main()
