"""A small, fast reader for GGUF files (the llama.cpp model format): metadata and tensors.

``gguf.GGUFReader`` builds a numpy view per array element and takes ~10 s on the bundled
model's 49k-token vocabulary; this reader parses the header with ``struct`` in well under a
second and leaves the tensor bytes memory-mapped. De-quantisation is ``gguf.quants``' job.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.base import PipelineError

_MAGIC = b"GGUF"
_SCALARS: dict[int, str] = {
    0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q",
    12: "<d",
}  # fmt: skip
_STRING, _ARRAY = 8, 9


@dataclass(frozen=True)
class TensorInfo:
    """Where one tensor's bytes lie and how to read them."""

    name: str
    shape: tuple[int, ...]
    """numpy order (slowest axis first): GGUF's dimensions reversed."""
    ggml_type: int
    """A ``gguf.GGMLQuantizationType`` value."""
    offset: int
    """Byte offset from the start of the file."""


class _Cursor:
    def __init__(self, data: bytes | memoryview) -> None:
        self.data = data
        self.pos = 0

    def scalar(self, fmt: str) -> Any:
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        n = self.scalar("<Q")
        raw = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return raw.decode("utf-8", errors="replace")

    def value(self, kind: int) -> Any:
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item_kind, count = self.scalar("<I"), self.scalar("<Q")
            if item_kind in _SCALARS:
                fmt = _SCALARS[item_kind]
                size = struct.calcsize(fmt)
                values = list(struct.unpack_from(f"<{count}{fmt[1]}", self.data, self.pos))
                self.pos += size * count
                return values
            return [self.value(item_kind) for _ in range(count)]
        if kind not in _SCALARS:
            raise PipelineError(f"Unknown GGUF value type {kind}; the model file may be damaged.")
        return self.scalar(_SCALARS[kind])


class GGUFFile:
    """Metadata and memory-mapped tensors of one GGUF file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._map = np.memmap(self.path, dtype=np.uint8, mode="r")
        except OSError as exc:
            raise PipelineError(f"Cannot read the model file {self.path}: {exc}") from exc
        view = memoryview(self._map)  # type: ignore[arg-type]
        cur = _Cursor(view)
        if bytes(view[:4]) != _MAGIC:
            raise PipelineError(f"{self.path} is not a GGUF model file.")
        cur.pos = 4
        version = cur.scalar("<I")
        if version < 2:
            raise PipelineError(f"{self.path} is GGUF version {version}; version 2+ is needed.")
        n_tensors, n_kv = cur.scalar("<Q"), cur.scalar("<Q")
        self.metadata: dict[str, Any] = {}
        for _ in range(n_kv):
            key = cur.string()
            self.metadata[key] = cur.value(cur.scalar("<I"))
        infos: list[tuple[str, tuple[int, ...], int, int]] = []
        for _ in range(n_tensors):
            name = cur.string()
            dims = [cur.scalar("<Q") for _ in range(cur.scalar("<I"))]
            kind, offset = cur.scalar("<I"), cur.scalar("<Q")
            infos.append((name, tuple(reversed(dims)), kind, offset))
        align = int(self.metadata.get("general.alignment", 32))
        start = (cur.pos + align - 1) // align * align
        self.tensors = {n: TensorInfo(n, s, k, start + o) for n, s, k, o in infos}

    def tensor(self, name: str) -> np.ndarray:
        """The tensor ``name`` as float32, de-quantised."""
        from gguf import GGML_QUANT_SIZES, GGMLQuantizationType
        from gguf.quants import dequantize

        info = self.tensors.get(name)
        if info is None:
            raise PipelineError(f"The model file {self.path.name} has no tensor {name!r}.")
        qtype = GGMLQuantizationType(info.ggml_type)
        block, type_size = GGML_QUANT_SIZES[qtype]
        count = int(np.prod(info.shape))
        nbytes = count // block * type_size
        raw = np.asarray(self._map[info.offset : info.offset + nbytes])
        if qtype in (GGMLQuantizationType.F32, GGMLQuantizationType.F16):
            dtype = np.float32 if qtype == GGMLQuantizationType.F32 else np.float16
            return raw.view(dtype).reshape(info.shape).astype(np.float32)
        rows = raw.reshape(*info.shape[:-1], -1)
        return np.ascontiguousarray(dequantize(rows, qtype), dtype=np.float32)
