"""PyTorch's pre-LN transformer block on the shapes `cargo bench --bench block` gives it.

Usage: python3 block.py THREADS ROUNDS D HEADS SHAPE...
  SHAPE is BxT. The block: h = x + MHA(LN1(x), causal); y = h + fc2(gelu_tanh(fc1(LN2(h)))),
  torch.nn modules (nn.MultiheadAttention with batch_first, need_weights=False, so its
  fused fast path runs), LayerNorm eps 1e-6 as Flax's, under torch.inference_mode().
Prints one line per shape: `SHAPE <median seconds per call>`.
"""
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d, eps=1e-6)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(d, eps=1e-6)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x, mask):
        a = self.ln1(x)
        h = x + self.attn(a, a, a, attn_mask=mask, need_weights=False)[0]
        return h + self.fc2(F.gelu(self.fc1(self.ln2(h)), approximate="tanh"))


def main():
    threads, rounds, d, heads = (int(a) for a in sys.argv[1:5])
    torch.set_num_threads(threads)
    block = Block(d, heads).eval()
    for shape in sys.argv[5:]:
        b, t = (int(n) for n in shape.split("x"))
        x = torch.rand(b, t, d) * 2 - 1
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
        with torch.inference_mode():
            for _ in range(3):
                block(x, mask)
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                block(x, mask)
                times.append(time.perf_counter() - start)
        times.sort()
        print(shape, times[len(times) // 2], flush=True)


if __name__ == "__main__":
    main()
