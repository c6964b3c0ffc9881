"""PyTorch's CPU ops on the shapes `cargo bench --bench versus_torch` gives them.

Usage: python3 ops.py OP THREADS ROUNDS SHAPE...
  OP layer_norm: SHAPE is ROWSxFEATURES, F.layer_norm over the last axis with weight
                 and bias.
  OP linear:     SHAPE is ROWSxINxOUT, F.linear (x @ W.T + b).
Prints one line per shape: `SHAPE <median seconds per call>`, each round timing one
call after warm-up, as the Rust side does.
"""
import sys
import time

import torch
import torch.nn.functional as F


def layer_norm(shape):
    rows, features = (int(n) for n in shape.split("x"))
    x = torch.rand(rows, features) * 4 - 1
    weight, bias = torch.rand(features) + 0.5, torch.rand(features)
    return lambda: F.layer_norm(x, (features,), weight, bias, 1e-6)


def linear(shape):
    rows, inputs, outputs = (int(n) for n in shape.split("x"))
    x = torch.rand(rows, inputs)
    weight, bias = torch.rand(outputs, inputs), torch.rand(outputs)
    return lambda: F.linear(x, weight, bias)


def main():
    op, threads, rounds, shapes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    torch.set_num_threads(threads)
    make = {"layer_norm": layer_norm, "linear": linear}[op]
    for shape in shapes:
        call = make(shape)
        for _ in range(5):
            call()
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        times.sort()
        print(shape, times[len(times) // 2], flush=True)


if __name__ == "__main__":
    main()
