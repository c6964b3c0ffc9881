"""Generates conv.json and conv_transpose.json: nnx.Conv and nnx.ConvTranspose
outputs from the real Flax (see README.md beside).

Run with flax 0.12.8 / jax 0.10.2 on CPU: `python3 generate.py` (writes both files).
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


def quantized(rng, shape):
    return np.round(rng.uniform(-1, 1, size=shape), 3).astype(np.float32)


CASES = [
    ("conv1d_same", dict(in_features=3, out_features=4, kernel_size=(3,)), (2, 7, 3)),
    ("conv1d_valid_stride2", dict(in_features=3, out_features=2, kernel_size=(3,), strides=2, padding="VALID"), (2, 8, 3)),
    ("conv1d_causal_dilated", dict(in_features=2, out_features=3, kernel_size=(3,), kernel_dilation=2, padding="CAUSAL"), (1, 9, 2)),
    ("conv1d_explicit_stride3", dict(in_features=2, out_features=2, kernel_size=(2,), strides=3, padding=((1, 2),)), (2, 7, 2)),
    ("conv1d_int_padding", dict(in_features=2, out_features=3, kernel_size=(4,), padding=1), (2, 6, 2)),
    ("conv1d_two_batch_axes", dict(in_features=3, out_features=2, kernel_size=(3,)), (2, 2, 5, 3)),
    ("conv2d_same_stride2", dict(in_features=3, out_features=4, kernel_size=(3, 3), strides=(2, 2)), (2, 5, 6, 3)),
    ("conv2d_same_even_kernel_stride2", dict(in_features=2, out_features=3, kernel_size=(4, 2), strides=(2, 1)), (1, 8, 5, 2)),
    ("conv2d_valid_kernel_dilation", dict(in_features=3, out_features=2, kernel_size=(3, 2), kernel_dilation=(2, 1), padding="VALID"), (2, 7, 5, 3)),
    ("conv2d_circular", dict(in_features=2, out_features=3, kernel_size=(3, 2), padding="CIRCULAR"), (2, 4, 5, 2)),
    ("conv2d_groups3", dict(in_features=6, out_features=9, kernel_size=(3, 3), feature_group_count=3), (2, 4, 5, 6)),
    ("conv2d_depthwise", dict(in_features=4, out_features=4, kernel_size=(3, 3), feature_group_count=4, padding="VALID"), (1, 5, 5, 4)),
    ("conv2d_input_dilation", dict(in_features=2, out_features=3, kernel_size=(3, 3), input_dilation=(2, 2), padding=((1, 1), (2, 0))), (1, 4, 3, 2)),
    ("conv2d_unbatched", dict(in_features=3, out_features=2, kernel_size=(2, 3)), (5, 6, 3)),
    ("conv2d_no_bias", dict(in_features=3, out_features=4, kernel_size=(1, 1), use_bias=False), (2, 3, 3, 3)),
    ("conv3d_same", dict(in_features=2, out_features=3, kernel_size=(2, 2, 2)), (1, 3, 4, 5, 2)),
]


TRANSPOSE_CASES = [
    ("convt1d_same_stride2", dict(in_features=3, out_features=2, kernel_size=(3,), strides=2), (2, 5, 3)),
    ("convt1d_valid_stride2", dict(in_features=2, out_features=3, kernel_size=(3,), strides=2, padding="VALID"), (2, 4, 2)),
    ("convt1d_same_stride3_kernel2", dict(in_features=2, out_features=2, kernel_size=(2,), strides=3), (1, 4, 2)),
    ("convt1d_explicit", dict(in_features=2, out_features=3, kernel_size=(3,), strides=2, padding=((2, 1),)), (2, 4, 2)),
    ("convt1d_dilated", dict(in_features=2, out_features=2, kernel_size=(3,), kernel_dilation=2, strides=2), (1, 5, 2)),
    ("convt2d_same_stride2", dict(in_features=3, out_features=4, kernel_size=(3, 3), strides=(2, 2)), (2, 3, 4, 3)),
    ("convt2d_valid_even_kernel", dict(in_features=2, out_features=3, kernel_size=(4, 2), strides=(2, 1), padding="VALID"), (1, 3, 3, 2)),
    ("convt2d_transpose_kernel", dict(in_features=3, out_features=2, kernel_size=(3, 2), strides=(2, 2), transpose_kernel=True), (2, 3, 3, 3)),
    ("convt2d_unbatched_no_bias", dict(in_features=2, out_features=2, kernel_size=(2, 2), strides=(2, 2), use_bias=False), (3, 2, 2)),
    ("convt1d_two_batch_axes", dict(in_features=2, out_features=2, kernel_size=(3,), strides=2), (2, 2, 4, 2)),
]


def vectors_of(cls, cases, rng):
    vectors = []
    for name, config, shape in cases:
        module = cls(**config, rngs=nnx.Rngs(0))
        module.kernel = nnx.Param(jnp.asarray(quantized(rng, module.kernel[...].shape)))
        params = {"kernel": tensor(module.kernel[...])}
        if module.bias is not None and module.bias[...] is not None:
            module.bias = nnx.Param(jnp.asarray(quantized(rng, module.bias[...].shape)))
            params["bias"] = tensor(module.bias[...])
        x = quantized(rng, shape)
        y = module(jnp.asarray(x))
        vectors.append({
            "id": name,
            "module": cls.__name__,
            "config": config,
            "params": params,
            "batch_stats": {},
            "inputs": {"inputs": tensor(x)},
            "expected": tensor(y),
        })
    return vectors


def main():
    rng = np.random.default_rng(20261202)
    versions = {"flax": flax.__version__, "jax": jax.__version__, "numpy": np.__version__}
    for file, cls, cases in [
        ("conv.json", nnx.Conv, CASES),
        ("conv_transpose.json", nnx.ConvTranspose, TRANSPOSE_CASES),
    ]:
        vectors = vectors_of(cls, cases, rng)
        with open(file, "w") as out:
            json.dump({"versions": versions, "count": len(vectors), "vectors": vectors}, out)


main()
