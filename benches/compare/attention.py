"""PyTorch's causal multi-head self-attention on the shapes `cargo bench --bench attention`
gives it.

Usage: python3 attention.py THREADS ROUNDS D HEADS SHAPE...
  SHAPE is BxT. nn.MultiheadAttention(d, heads, batch_first=True) called as self-attention
  with a boolean causal mask and need_weights=False (its fused fast path), under
  torch.inference_mode().
Prints one line per shape: `SHAPE <median seconds per call>`.
"""
import sys
import time

import torch
from torch import nn


def main():
    threads, rounds, d, heads = (int(a) for a in sys.argv[1:5])
    torch.set_num_threads(threads)
    attn = nn.MultiheadAttention(d, heads, batch_first=True).eval()
    for shape in sys.argv[5:]:
        b, t = (int(n) for n in shape.split("x"))
        x = torch.rand(b, t, d) * 2 - 1
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
        with torch.inference_mode():
            for _ in range(3):
                attn(x, x, x, attn_mask=mask, need_weights=False)
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                attn(x, x, x, attn_mask=mask, need_weights=False)
                times.append(time.perf_counter() - start)
        times.sort()
        print(shape, times[len(times) // 2], flush=True)


if __name__ == "__main__":
    main()
