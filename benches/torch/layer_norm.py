"""PyTorch's CPU layer_norm on the shapes `cargo bench --bench versus_torch` gives it.

Usage: python3 layer_norm.py THREADS ROUNDS ROWSxFEATURES...
Prints one line per shape: `ROWSxFEATURES <median seconds per call>`, where each round
times one call (after warm-up), as the Rust side does.
"""
import sys
import time

import torch
import torch.nn.functional as F


def main():
    threads, rounds, shapes = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    torch.set_num_threads(threads)
    for shape in shapes:
        rows, features = (int(n) for n in shape.split("x"))
        x = torch.rand(rows, features) * 4 - 1
        weight = torch.rand(features) + 0.5
        bias = torch.rand(features)
        for _ in range(5):
            F.layer_norm(x, (features,), weight, bias, 1e-6)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            F.layer_norm(x, (features,), weight, bias, 1e-6)
            times.append(time.perf_counter() - start)
        times.sort()
        print(shape, times[len(times) // 2], flush=True)


if __name__ == "__main__":
    main()
