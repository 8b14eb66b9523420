"""Read Kiln's safetensors files into torch tensors and build the benchmark models.

Debian ships no safetensors package, so the reader parses the format itself: an 8-byte
little-endian header length, a JSON header, then the raw little-endian tensor data.
"""

import ctypes
import json
import os
import pathlib

import torch
from torch import nn

DTYPES = {"F32": torch.float32, "F64": torch.float64, "I32": torch.int32, "I64": torch.int64}


def read_safetensors(path):
    """Return ({name: tensor}, metadata) of a safetensors file."""
    data = pathlib.Path(path).read_bytes()
    header_length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + header_length])
    metadata = header.pop("__metadata__", {})
    base = 8 + header_length
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] not in DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {entry['dtype']}; expected one of {sorted(DTYPES)}")
        begin, end = entry["data_offsets"]
        raw = bytearray(data[base + begin:base + end])
        tensor = torch.frombuffer(raw, dtype=DTYPES[entry["dtype"]]) if raw else torch.empty(0, dtype=DTYPES[entry["dtype"]])
        tensors[name] = tensor.reshape(entry["shape"])
    return tensors, metadata


class ReferenceMlp(nn.Module):
    """Linear(13, 20), one Linear(20, 20) applied nine times (tied weights), Linear(20, 3), tanh."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(13, 20)
        self.fc2 = nn.Linear(20, 20)
        self.fc3 = nn.Linear(20, 3)

    def forward(self, x):
        x = torch.tanh(self.fc1(x))
        for _ in range(9):
            x = torch.tanh(self.fc2(x))
        return self.fc3(x)


class FashionMlp(nn.Module):
    """784-256-128-10 with ReLU."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


class TinyLinear(nn.Module):
    """Linear(1, 1)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(1, 1)

    def forward(self, x):
        return self.fc(x)


def load_model(module, path):
    """Load a Kiln checkpoint into a fresh module. Every tensor must match by name and shape."""
    tensors, _ = read_safetensors(path)
    module.load_state_dict({name: tensor.float() for name, tensor in tensors.items()}, strict=True)
    return module


def set_threads(threads):
    """Set PyTorch's intra-op threads and OpenBLAS's own thread pool to the same count.

    torch.set_num_threads sizes PyTorch's OpenMP pool only. OpenBLAS's pthread build keeps its
    own pool, one thread per core by default, so it is sized here through OpenBLAS's C API.
    """
    torch.set_num_threads(threads)
    for path in loaded_blas():
        if "openblas" in os.path.basename(path):
            ctypes.CDLL(path).openblas_set_num_threads(threads)


def loaded_blas():
    """Return the BLAS and LAPACK shared libraries mapped into this process, after a matmul."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    libraries = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if any(word in path for word in ("blas", "lapack", "mkl")):
                libraries.add(path)
    return sorted(libraries)
