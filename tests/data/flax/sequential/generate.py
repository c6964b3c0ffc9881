"""Generates sequential.json: an nnx.Sequential MLP/CNN from the real Flax.

Run with flax 0.12.8 / jax 0.10.2 on CPU: `python3 generate.py > sequential.json`.
The model: Conv(3->4, 3x3) -> relu -> LayerNorm(4) -> Linear(4->5) -> gelu (exact)
-> Dropout(0.5, deterministic) -> Linear(5->2), on x of shape [2, 5, 6, 3].
"""
import json

import flax
import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

jax.config.update("jax_default_matmul_precision", "highest")


def tensor(a):
    a = np.asarray(a, dtype=np.float32)
    return {"dtype": "f32", "shape": list(a.shape), "data": [float(v) for v in a.ravel()]}


def main():
    rngs = nnx.Rngs(0)
    model = nnx.Sequential(
        nnx.Conv(3, 4, kernel_size=(3, 3), rngs=rngs),
        nnx.relu,
        nnx.LayerNorm(4, rngs=rngs),
        nnx.Linear(4, 5, rngs=rngs),
        lambda x: nnx.gelu(x, approximate=False),
        nnx.Dropout(0.5, deterministic=True, rngs=rngs),
        nnx.Linear(5, 2, rngs=rngs),
    )
    rng = np.random.default_rng(7)
    for _, var in nnx.to_flat_state(nnx.state(model, nnx.Param)):
        value = np.round(rng.uniform(-1, 1, size=var[...].shape), 3).astype(np.float32)
        var[...] = jnp.asarray(value)
    # Read back what the model holds, so the recorded params are exactly its state.
    params = {
        ".".join(str(p) for p in path): tensor(var[...])
        for path, var in nnx.to_flat_state(nnx.state(model, nnx.Param))
    }
    x = np.round(rng.uniform(-1, 1, size=(2, 5, 6, 3)), 3).astype(np.float32)
    y = model(jnp.asarray(x))
    vector = {
        "id": "sequential_conv_mlp",
        "module": "Sequential",
        "params": params,
        "batch_stats": {},
        "inputs": {"inputs": tensor(x)},
        "expected": tensor(y),
    }
    versions = {"flax": flax.__version__, "jax": jax.__version__, "numpy": np.__version__}
    print(json.dumps({"versions": versions, "count": 1, "vectors": [vector]}))


main()
