#!/usr/bin/python3
"""Write PyTorch reference outputs for Kiln's reference MLP as safetensors fixtures.

The network is fc1 = Linear(13, 20), one fc2 = Linear(20, 20) applied nine times
(tied weights) and fc3 = Linear(20, 3), with tanh after fc1 and after each fc2.

Outputs, in examples/src/test/resources/fixtures/ unless --output-dir is given:

  reference_mlp_init.safetensors  the initial float32 parameters (seed 7)
  reference_mlp_run.safetensors   the data (seed 11), float64 logits, loss and
                                  gradients at the initial parameters, and the
                                  per-step losses of 20 Adam and 20 SGD steps

Debian ships no safetensors package, so this script writes and reads the format
with json and struct, and reads every file back to check it.

Run: /usr/bin/python3 tools/oracle/reference_mlp.py
"""

import argparse
import json
import pathlib
import platform
import struct
import sys

import numpy as np
import torch
from torch import nn

COMMAND = "/usr/bin/python3 tools/oracle/reference_mlp.py"
INIT_SEED = 7
DATA_SEED = 11
BATCH = 50
STEPS = 20
ADAM_LR = 1e-2
SGD_LR = 0.05
SGD_MOMENTUM = 0.9

PARAMETER_NAMES = [
    "fc1.weight", "fc1.bias",
    "fc2.weight", "fc2.bias",
    "fc3.weight", "fc3.bias",
]

# safetensors dtype name -> (little-endian numpy dtype, torch dtype)
DTYPES = {
    "F32": (np.dtype("<f4"), torch.float32),
    "F64": (np.dtype("<f8"), torch.float64),
    "I64": (np.dtype("<i8"), torch.int64),
}
TORCH_TO_SAFETENSORS = {torch_dtype: name for name, (_, torch_dtype) in DTYPES.items()}


class ReferenceMlp(nn.Module):
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


def write_safetensors(path, tensors, metadata):
    """Write (name, tensor) pairs in the given order, header padded to 8 bytes."""
    header = {"__metadata__": dict(metadata)}
    chunks = []
    offset = 0
    for name, tensor in tensors:
        dtype = TORCH_TO_SAFETENSORS[tensor.dtype]
        little_endian = DTYPES[dtype][0]
        data = tensor.detach().cpu().contiguous().numpy().astype(little_endian).tobytes()
        header[name] = {
            "dtype": dtype,
            "shape": list(tensor.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)

    header_bytes = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    # Padding keeps the data buffer 8-byte aligned, so readers can view F64 and I64 data in place.
    header_bytes += b" " * (-len(header_bytes) % 8)

    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as out:
        out.write(struct.pack("<Q", len(header_bytes)))
        out.write(header_bytes)
        for chunk in chunks:
            out.write(chunk)
    temporary.replace(path)


def read_safetensors(path):
    """Return ({name: tensor} in file order, metadata) from a safetensors file."""
    # torch.frombuffer uses the machine's byte order, and the format is little endian.
    assert sys.byteorder == "little", "reading needs a little-endian machine"
    raw = path.read_bytes()
    (header_length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + header_length].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    buffer = bytearray(raw[8 + header_length:])
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        torch_dtype = DTYPES[entry["dtype"]][1]
        flat = torch.frombuffer(buffer[begin:end], dtype=torch_dtype) if end > begin \
            else torch.empty(0, dtype=torch_dtype)
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors, metadata


def make_data():
    torch.manual_seed(DATA_SEED)
    x = torch.randn(BATCH, 13)
    y = torch.randint(0, 3, (BATCH,))
    return x, y


def init_parameters():
    torch.manual_seed(INIT_SEED)
    model = ReferenceMlp()
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def model_from(parameters, dtype=torch.float32):
    model = ReferenceMlp()
    model.load_state_dict(parameters)
    return model.to(dtype)


def train_losses(parameters, x, y, make_optimizer):
    """Record the full-batch loss of each step, computed before that step's update."""
    model = model_from(parameters)
    optimizer = make_optimizer(model.parameters())
    loss_function = nn.CrossEntropyLoss()
    losses = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = loss_function(model(x), y)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return torch.tensor(losses, dtype=torch.float64), optimizer.defaults


def float64_reference(parameters, x, y):
    """Return the float64 logits, loss and parameter gradients at the given parameters."""
    model = model_from(parameters, torch.float64)
    logits = model(x.double())
    loss = nn.CrossEntropyLoss()(logits, y)
    loss.backward()
    gradients = {name: value.grad.detach().clone() for name, value in model.named_parameters()}
    return logits.detach(), loss.detach().reshape(1), gradients


def format_defaults(defaults):
    return ", ".join(f"{key}={value}" for key, value in sorted(defaults.items()))


def check_round_trip(path, expected):
    tensors, _ = read_safetensors(path)
    assert list(tensors) == [name for name, _ in expected], f"{path}: names or order differ"
    for name, tensor in expected:
        read_back = tensors[name]
        assert read_back.dtype == tensor.dtype, f"{path}: {name} has dtype {read_back.dtype}"
        assert read_back.shape == tensor.shape, f"{path}: {name} has shape {read_back.shape}"
        assert torch.equal(read_back, tensor), f"{path}: {name} differs after reading back"


def main():
    repository = pathlib.Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=pathlib.Path,
                        default=repository / "examples/src/test/resources/fixtures",
                        help="folder for the .safetensors files (created if missing)")
    args = parser.parse_args()
    args.output_dir.mkdir(parents=True, exist_ok=True)

    torch.set_default_dtype(torch.float32)
    torch.set_num_threads(1)

    parameters = init_parameters()
    x, y = make_data()

    init_tensors = [(name, parameters[name]) for name in PARAMETER_NAMES]
    init_path = args.output_dir / "reference_mlp_init.safetensors"
    write_safetensors(init_path, init_tensors, {"format": "pt", "model": "ReferenceMlp"})
    check_round_trip(init_path, init_tensors)

    adam_losses, adam_defaults = train_losses(
        parameters, x, y, lambda p: torch.optim.Adam(p, lr=ADAM_LR))
    sgd_losses, sgd_defaults = train_losses(
        parameters, x, y, lambda p: torch.optim.SGD(p, lr=SGD_LR, momentum=SGD_MOMENTUM))
    logits, loss0, gradients = float64_reference(parameters, x, y)

    run_tensors = [("x", x), ("y", y), ("adam_losses", adam_losses), ("sgd_losses", sgd_losses)]
    run_tensors += [(f"grad.{name}", gradients[name]) for name in PARAMETER_NAMES]
    run_tensors += [("logits", logits), ("loss0", loss0)]
    run_metadata = {
        "format": "pt",
        "model": "ReferenceMlp",
        "command": COMMAND,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "init_seed": str(INIT_SEED),
        "data_seed": str(DATA_SEED),
        "data": f"torch.manual_seed({DATA_SEED}); x = torch.randn({BATCH}, 13); "
                f"y = torch.randint(0, 3, ({BATCH},))",
        "loss": "torch.nn.CrossEntropyLoss(reduction='mean'), full batch",
        "steps": str(STEPS),
        "losses": "float32 training; loss of each step recorded before that step's update, "
                  "stored as float64",
        "adam": "torch.optim.Adam(" + format_defaults(adam_defaults) + ")",
        "sgd": "torch.optim.SGD(" + format_defaults(sgd_defaults) + ")",
        "reference": "logits, loss0 and grad.* computed in float64 at the init parameters "
                     "(model and x cast to double)",
        "num_threads": "1",
    }
    run_path = args.output_dir / "reference_mlp_run.safetensors"
    write_safetensors(run_path, run_tensors, run_metadata)
    check_round_trip(run_path, run_tensors)

    print(f"torch {torch.__version__}; wrote {init_path} and {run_path}")
    for name in PARAMETER_NAMES:
        first = ", ".join(f"{v:.9g}" for v in parameters[name].flatten()[:3].tolist())
        print(f"  {name:10s} {list(parameters[name].shape)} first: {first}")
    print(f"  x[0, :3]: {', '.join(f'{v:.9g}' for v in x[0, :3].tolist())}; "
          f"y[:5]: {y[:5].tolist()}")
    print(f"  loss0 (float64): {loss0.item():.17g}")
    print(f"  adam losses: first {adam_losses[0].item():.9g}, last {adam_losses[-1].item():.9g}")
    print(f"  sgd losses:  first {sgd_losses[0].item():.9g}, last {sgd_losses[-1].item():.9g}")


if __name__ == "__main__":
    main()
