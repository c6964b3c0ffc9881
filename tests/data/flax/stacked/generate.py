"""Generates stacked.json: ensembles created the way Flax NNX stacks layers, with
`nnx.split_rngs` + `nnx.vmap` over the constructor, so every variable has a leading
member axis (`kernel` of shape [members, in, out]), and their outputs under `nnx.vmap`
(member i on example i).

Run with flax 0.12.8 / jax 0.10.2 on CPU: `python3 generate.py > stacked.json`.
Vectors: 3 x Linear(4 -> 2) on x [3, 5, 4]; 4 x LayerNorm(6) on x [4, 2, 6]; and
4 x Linear(5 -> 5) applied in turn by `nnx.scan` (the activation is the carry) to x [3, 5].
Params are replaced by rounded uniform draws so every member differs in every variable.
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


def stack(members, build, seed, low, rng):
    """`members` copies of `build(rngs)` stacked by `nnx.vmap` over the constructor, their
    params replaced by draws from uniform(low, -low) rounded to 3 decimals; returns the
    stack and its params as recorded."""
    @nnx.split_rngs(splits=members)
    @nnx.vmap(in_axes=(0,), out_axes=0)
    def make(rngs):
        return build(rngs)

    model = make(nnx.Rngs(seed))
    for _, var in nnx.to_flat_state(nnx.state(model, nnx.Param)):
        value = np.round(rng.uniform(low, -low, size=var[...].shape), 3).astype(np.float32)
        var[...] = jnp.asarray(value)
    params = {
        ".".join(str(p) for p in path): tensor(var[...])
        for path, var in nnx.to_flat_state(nnx.state(model, nnx.Param))
    }
    return model, params


def record(name, members, params, x, y):
    return {
        "id": name,
        "members": members,
        "params": params,
        "batch_stats": {},
        "inputs": {"x": tensor(x)},
        "expected": tensor(y),
    }


def vector(name, members, build, x_shape, rng):
    model, params = stack(members, build, 0, -1, rng)
    x = np.round(rng.uniform(-1, 1, size=x_shape), 3).astype(np.float32)

    @nnx.vmap(in_axes=(0, 0))
    def forward(model, x):
        return model(x)

    return record(name, members, params, x, forward(model, jnp.asarray(x)))


def scan_vector(name, members, build, x_shape, rng):
    """A stack applied layer after layer with `nnx.scan` (the activation is the carry)."""
    model, params = stack(members, build, 1, -0.6, rng)
    x = np.round(rng.uniform(-1, 1, size=x_shape), 3).astype(np.float32)

    @nnx.scan(in_axes=(0, nnx.Carry), out_axes=nnx.Carry)
    def forward(layer, x):
        return layer(x)

    return record(name, members, params, x, forward(model, jnp.asarray(x)))


def main():
    rng = np.random.default_rng(11)
    vectors = [
        vector("linear_x3", 3, lambda rngs: nnx.Linear(4, 2, rngs=rngs), (3, 5, 4), rng),
        vector("layer_norm_x4", 4, lambda rngs: nnx.LayerNorm(6, rngs=rngs), (4, 2, 6), rng),
        scan_vector("linear_scan_x4", 4, lambda rngs: nnx.Linear(5, 5, rngs=rngs), (3, 5), rng),
    ]
    versions = {"flax": flax.__version__, "jax": jax.__version__, "numpy": np.__version__}
    print(json.dumps({"versions": versions, "count": len(vectors), "vectors": vectors}))


main()
