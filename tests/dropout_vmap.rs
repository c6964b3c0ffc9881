//! Dropout under `vmap!` with the layer shared (`self = None`): one stream per example,
//! split from the layer's (as Flax's `nnx.split_rngs`), checked against the loop run
//! with those streams, for reproducibility, and for independent draws.

use nnx::ndarray::{Array2, Axis};
use nnx::prelude::*;
use nnx::{Dropout, RngStream};

fn inputs(examples: usize, features: usize) -> Array2<f32> {
    Array2::from_shape_fn((examples, features), |(b, j)| {
        1.0 + (b * features + j) as f32 * 0.01
    })
}

#[test]
fn each_example_is_dropped_as_alone_with_its_split_stream() {
    let mut drop = Dropout::new(0.3, &mut Rngs::new(5));
    let before = drop.stream().clone();
    let xs = inputs(6, 40);
    let ys = vmap!(drop(xs.view()), in_axes = (0, self = None)).unwrap();

    // The loop it stands for: example i through a copy drawing from split stream i.
    let streams = before.clone().split(6);
    for (i, stream) in streams.into_iter().enumerate() {
        let mut alone = Dropout::new(0.3, &mut Rngs::new(0)).with_stream(stream);
        let y = call!(alone(xs.row(i))).unwrap();
        assert_eq!(ys.index_axis(Axis(0), i), y, "example {i}");
    }
    // The layer's stream advanced once, as after one call.
    let mut once = before.clone();
    once.split(6);
    assert_eq!(drop.stream(), &once);
    assert_eq!(drop.stream().count(), before.count() + 1);

    // The same seed gives the same draws; the next call gives new ones.
    let mut again = Dropout::new(0.3, &mut Rngs::new(5));
    assert_eq!(
        vmap!(again(xs.view()), in_axes = (0, self = None)).unwrap(),
        ys
    );
    assert_ne!(
        vmap!(again(xs.view()), in_axes = (0, self = None)).unwrap(),
        ys
    );
}

#[test]
fn no_two_examples_share_a_mask() {
    // 64 examples of 256 elements at rate 0.5: two equal masks would have probability
    // 2^-256 per pair; a broadcast input must not make them equal either.
    let mut drop = Dropout::new(0.5, &mut Rngs::new(11));
    let one = Array2::<f32>::ones((1, 256));
    let ys = vmap!(
        drop(one.row(0)),
        in_axes = (None, self = None),
        axis_size = 64
    )
    .unwrap();
    let masks: Vec<Vec<bool>> = ys
        .outer_iter()
        .map(|y| y.iter().map(|&v| v != 0.0).collect())
        .collect();
    for i in 0..masks.len() {
        for j in i + 1..masks.len() {
            assert_ne!(masks[i], masks[j], "examples {i} and {j}");
        }
    }
    // Each example keeps about half its elements, scaled by 2.
    for y in ys.outer_iter() {
        let kept = y.iter().filter(|&&v| v != 0.0).count();
        assert!((96..=160).contains(&kept), "{kept} of 256 kept");
        assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
    }
    let kept: usize = masks.iter().flatten().filter(|&&k| k).count();
    let fraction = kept as f64 / (64.0 * 256.0);
    assert!((fraction - 0.5).abs() < 0.02, "{fraction}");
}

#[test]
fn in_eval_mode_a_shared_dropout_is_the_identity_and_draws_nothing() {
    let mut drop = Dropout::new(0.5, &mut Rngs::new(1));
    drop.eval();
    let before = drop.stream().clone();
    let xs = inputs(3, 8);
    assert_eq!(
        vmap!(drop(xs.view()), in_axes = (0, self = None)).unwrap(),
        xs.into_dyn()
    );
    assert_eq!(drop.stream(), &before);
    assert_eq!(RngStream::new(3).split(2).len(), 2);
}

#[path = "../examples/dropout_vmap.rs"]
mod model_example;

/// `examples/dropout_vmap.rs`: a model with Dropout vmapped with `self = None`, equal to
/// each example run alone with its split stream (the example asserts it).
#[test]
fn the_model_example_holds() {
    model_example::main().unwrap();
}

/// A model with BatchNorm and Dropout, vmapped in training with the model shared: its
/// batching rule gives BatchNorm the whole batch (statistics over every example, the
/// running averages updated once, as Flax's `axis_name`) and Dropout a stream per
/// example, which is what the same steps written out give.
#[module]
#[derive(Clone)]
struct Net {
    fc: Linear,
    bn: BatchNorm,
    drop: Dropout,
}

impl Net {
    fn forward_batched(
        &mut self,
        x: nnx::batching::Slot<nnx::ndarray::ArrayViewD<'_, f32>>,
        batch: nnx::batching::Batch<isize>,
    ) -> Result<nnx::ndarray::ArrayD<f32>, VmapError> {
        nnx::batching::over_leading_axes(x, batch, 2, |xs| {
            let h = call!((self.fc)(xs))?;
            let h = call!((self.bn)(&h))?;
            Ok::<_, VmapError>(vmap!((self.drop)(h.view()), in_axes = (0, self = None))?)
        })
    }
}

#[module]
impl Net {
    #[call]
    #[batched(forward_batched)]
    pub fn forward(
        &mut self,
        x: nnx::ndarray::ArrayViewD<'_, f32>,
    ) -> Result<nnx::ndarray::ArrayD<f32>, ForwardError> {
        let h = call!((self.fc)(x))?;
        let h = call!((self.bn)(&h))?;
        call!((self.drop)(&h))
    }
}

#[test]
fn a_model_with_batch_norm_and_dropout_vmaps_in_training_without_stacking() {
    let mut rngs = Rngs::new(21);
    let mut net = Net {
        fc: Linear::new(6, 4, &mut rngs),
        bn: BatchNorm::new(4),
        drop: Dropout::new(0.25, &mut rngs),
    };
    net.train();
    let mut by_hand = net.clone();
    // 3 examples, each a batch of 5 rows.
    let xs = nnx::ndarray::Array3::from_shape_fn((3, 5, 6), |(b, n, j)| {
        ((b * 30 + n * 6 + j) % 17) as f32 * 0.3 - 2.0
    });
    let ys = vmap!(net(xs.view()), in_axes = (0, self = None)).unwrap();

    let h = call!((by_hand.fc)(&xs)).unwrap();
    let h = call!((by_hand.bn)(&h)).unwrap();
    let streams = by_hand.drop.stream().clone().split(3);
    for (i, stream) in streams.into_iter().enumerate() {
        let mut alone = by_hand.drop.clone().with_stream(stream);
        let y = call!(alone(h.index_axis(Axis(0), i))).unwrap();
        assert_eq!(ys.index_axis(Axis(0), i), y, "example {i}");
    }
    // BatchNorm's running averages: updated once, from all 15 rows.
    assert_eq!(net.bn.state(), by_hand.bn.state());
}

/// A Dropout's stream is state (`rngs.key`, `rngs.count`): restoring a saved state, or
/// loading a checkpoint into a layer built from another seed, replays the same draws.
#[test]
fn a_checkpoint_restores_the_draws() {
    let x = Array2::<f32>::ones((4, 64));
    let mut drop = Dropout::new(0.5, &mut Rngs::new(3));
    call!(drop(&x)).unwrap();
    let saved = drop.state();
    assert_eq!(
        saved.paths().collect::<Vec<_>>(),
        ["rngs.key", "rngs.count"]
    );
    assert_eq!(saved.get("rngs.count").unwrap().kind, VarKind::RngCount);
    assert_eq!(saved.rng_state().len(), 2);
    assert_eq!(saved.params().len(), 0);
    let next = call!(drop(&x)).unwrap();
    drop.update(&saved).unwrap();
    assert_eq!(call!(drop(&x)).unwrap(), next);

    // Through a file, into a layer with another seed.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dropout.safetensors");
    drop.update(&saved).unwrap();
    nnx::checkpoint::save(&drop, &file).unwrap();
    let mut other = Dropout::new(0.5, &mut Rngs::new(99));
    assert_ne!(other.stream(), drop.stream());
    nnx::checkpoint::load_into(&mut other, &file).unwrap();
    assert_eq!(other.stream(), drop.stream());
    assert_eq!(call!(other(&x)).unwrap(), next);

    // Every bit of a u64 seed and count survives the f32 limbs.
    let mut extreme = Dropout::new(0.5, &mut Rngs::new(0)).with_stream(RngStream::new(u64::MAX));
    let state = extreme.state();
    let mut copy = Dropout::new(0.5, &mut Rngs::new(1));
    copy.update(&state).unwrap();
    assert_eq!(copy.stream(), &RngStream::new(u64::MAX));
    extreme.update(&copy.state()).unwrap();
}

/// Files without the streams (params only, or PyTorch's, which has none) still load
/// strictly into a model with Dropout: its stream keeps its own state. PyTorch files
/// are written without it.
#[test]
fn files_without_streams_load_and_torch_files_leave_them_out() {
    use nnx::checkpoint::{self, Checkpoint, TorchMapping};
    let mut rngs = Rngs::new(2);
    #[module]
    struct Net {
        fc: Linear,
        drop: Dropout,
    }
    let model = Net {
        fc: Linear::new(3, 2, &mut rngs),
        drop: Dropout::new(0.1, &mut rngs),
    };
    let dir = tempfile::tempdir().unwrap();
    let params_only = dir.path().join("params.safetensors");
    checkpoint::save(&model.state().params(), &params_only).unwrap();
    let mut other = Net {
        fc: Linear::new(3, 2, &mut Rngs::new(9)),
        drop: Dropout::new(0.1, &mut Rngs::new(9)),
    };
    let stream = other.drop.stream().clone();
    checkpoint::load_into(&mut other, &params_only).unwrap();
    assert_eq!(other.state().params(), model.state().params());
    assert_eq!(other.drop.stream(), &stream);

    let torch = dir.path().join("torch.safetensors");
    checkpoint::save_torch(&model, &torch, &TorchMapping::pytorch()).unwrap();
    let keys: Vec<String> = Checkpoint::open(&torch)
        .unwrap()
        .keys()
        .map(str::to_owned)
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.iter().all(|k| !k.contains("rngs")), "{keys:?}");
}
