"""Generates a small PyTorch CNN's state_dict as safetensors, with inputs and
PyTorch's outputs, for nnx's TorchMapping test (tests/checkpoint.rs): a Conv1d(3->4,
k=3, padding "same") on x1 [2, 3, 9] and a Conv2d(4->6, (3, 2), groups=2) on x2
[2, 4, 5, 6]. Run with torch 2.15 (CPU) and safetensors 0.8: `python3 generate.py`
(writes cnn_torch.safetensors and cnn_torch.json, inputs and outputs channels last).
"""
import json

import torch
from safetensors.torch import save_file

torch.manual_seed(0)


def tensor(t):
    t = t.detach().to(torch.float32)
    return {"dtype": "f32", "shape": list(t.shape), "data": [float(v) for v in t.flatten()]}


conv1 = torch.nn.Conv1d(3, 4, kernel_size=3, padding="same")
conv2 = torch.nn.Conv2d(4, 6, kernel_size=(3, 2), groups=2)
x1 = torch.round(torch.rand(2, 3, 9) * 2000 - 1000) / 1000
x2 = torch.round(torch.rand(2, 4, 5, 6) * 2000 - 1000) / 1000
with torch.no_grad():
    y1 = conv1(x1)
    y2 = conv2(x2)
state = {f"conv1.{k}": v for k, v in conv1.state_dict().items()}
state.update({f"conv2.{k}": v for k, v in conv2.state_dict().items()})
save_file({k: v.contiguous() for k, v in state.items()}, "cnn_torch.safetensors")
# Channels last, as nnx (and Flax) take them.
record = {
    "versions": {"torch": torch.__version__},
    "x1": tensor(x1.permute(0, 2, 1)),
    "y1": tensor(y1.permute(0, 2, 1)),
    "x2": tensor(x2.permute(0, 2, 3, 1)),
    "y2": tensor(y2.permute(0, 2, 3, 1)),
}
with open("cnn_torch.json", "w") as out:
    json.dump(record, out)
