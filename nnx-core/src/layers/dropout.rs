//! `Dropout`, as `flax.nnx.Dropout`: inverted dropout with its own random stream.

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Zip};
use rand_distr::{Distribution, StandardUniform};

use crate::axis::resolve_axis;
use crate::batching::{Batch, Slot, VmapError};
use crate::layers::batch_axis::{batch_first, move_batch_axis};
use crate::{ForwardError, Mode, RngStream, Rngs, module};

/// Zeroes each element with probability `rate` and scales the others by `1 / (1 − rate)`,
/// so the expected output equals the input. In evaluation mode (`eval()`), when built
/// deterministic, or when called with `deterministic = true`, it is the identity.
///
/// `broadcast_dims` share one draw along those axes (e.g. `[-2]` drops whole channels
/// of a `[.., length, channels]` input at every position). Each call draws a new key
/// from the layer's own stream, forked from `rngs`' `dropout` stream at construction as
/// in Flax; the stream is state (`rngs.key`, `rngs.count`, as Flax's paths), so a
/// checkpoint restores where the draws were.
///
/// Under `vmap!` with the layer shared (`in_axes = (.., self = None)`), its batching rule
/// splits the stream into one per example ([`RngStream::split`], as Flax's
/// `nnx.split_rngs`): example `i` is dropped exactly as a call on its own with stream
/// `i` would drop it, no two examples share a draw, and the layer's stream advances once.
#[module]
#[derive(Clone, Debug)]
pub struct Dropout {
    /// Train or evaluate: `eval()` makes the layer the identity.
    pub mode: Mode,
    /// The probability of dropping an element, in `[0, 1]`.
    #[module(skip)]
    pub rate: f32,
    /// Axes along which one draw is shared.
    #[module(skip)]
    pub broadcast_dims: Vec<isize>,
    /// The layer's own stream.
    rngs: RngStream,
}

impl Dropout {
    /// Drops with probability `rate`, drawing from a fork of `rngs`' `dropout` stream.
    pub fn new(rate: f32, rngs: &mut Rngs) -> Self {
        Self {
            mode: Mode::training(),
            rate,
            broadcast_dims: Vec::new(),
            rngs: rngs.stream("dropout").fork(),
        }
    }

    /// Shares each draw along `dims` (Flax's `broadcast_dims`).
    pub fn with_broadcast_dims(mut self, dims: &[isize]) -> Self {
        self.broadcast_dims = dims.to_vec();
        self
    }

    /// The stream the next call draws from.
    pub fn stream(&self) -> &RngStream {
        &self.rngs
    }

    /// The layer drawing from `stream` instead (to replay a draw, or to give each member
    /// of an ensemble one of [`RngStream::split`]'s streams).
    pub fn with_stream(mut self, stream: RngStream) -> Self {
        self.rngs = stream;
        self
    }

    /// Built deterministic (Flax's `deterministic=True`): the identity until `train()`.
    pub fn deterministic(mut self) -> Self {
        self.mode = Mode::evaluation();
        self
    }

    fn check_rate(&self) -> Result<(), ForwardError> {
        if (0.0..=1.0).contains(&self.rate) {
            Ok(())
        } else {
            Err(ForwardError::Config {
                module: "Dropout",
                message: format!("`rate` is {}; it must lie in [0, 1]", self.rate),
            })
        }
    }

    /// The shape of one draw: `x`'s, with every broadcast axis set to 1.
    fn draw_shape(&self, shape: &[usize]) -> Result<Vec<usize>, ForwardError> {
        let mut draw = shape.to_vec();
        for &dim in &self.broadcast_dims {
            let axis = resolve_axis(dim, shape.len()).ok_or(ForwardError::Axis {
                module: "Dropout",
                arg: "broadcast_dims",
                axis: dim,
                rank: shape.len(),
            })?;
            draw[axis] = 1;
        }
        Ok(draw)
    }
}

#[module]
impl Dropout {
    /// Drops elements of `inputs`. `deterministic` overrides the mode for this call, as
    /// Flax's call keyword does.
    #[call]
    #[batched(forward_batched)]
    pub fn forward(
        &mut self,
        inputs: ArrayViewD<'_, f32>,
        #[kw] deterministic: Option<bool>,
    ) -> Result<ArrayD<f32>, ForwardError> {
        self.check_rate()?;
        // Checked in every mode, so a bad axis does not wait for `train()` to show.
        let draw_shape = self.draw_shape(inputs.shape())?;
        let deterministic = deterministic.unwrap_or(!self.mode.is_training());
        if deterministic || self.rate == 0.0 {
            return Ok(inputs.to_owned());
        }
        if self.rate == 1.0 {
            return Ok(ArrayD::zeros(inputs.raw_dim()));
        }
        let keep_prob = 1.0 - self.rate;
        let mut key = self.rngs.next_key();
        let keep = ArrayD::from_shape_simple_fn(IxDyn(&draw_shape), || {
            let u: f32 = StandardUniform.sample(&mut key);
            u < keep_prob
        });
        let keep = keep
            .broadcast(inputs.raw_dim())
            .expect("a draw of 1s broadcasts to the input");
        let mut out = ArrayD::zeros(inputs.raw_dim());
        Zip::from(&mut out)
            .and(&inputs)
            .and(&keep)
            .for_each(|y, &x, &k| *y = if k { x / keep_prob } else { 0.0 });
        Ok(out)
    }
}

impl Dropout {
    /// The batching rule: one stream per example, split from the layer's, each example
    /// dropped as a call on its own with its stream would drop it.
    fn forward_batched(
        &mut self,
        inputs: Slot<ArrayViewD<'_, f32>>,
        deterministic: Slot<Option<bool>>,
        batch: Batch<isize>,
    ) -> Result<ArrayD<f32>, VmapError> {
        // A `bool` cannot be mapped: `vmap!` passes it broadcast, one for the batch.
        let Slot::Broadcast(deterministic) = deterministic;
        let x = batch_first(inputs, batch.size);
        let draws = !deterministic.unwrap_or(!self.mode.is_training()) && self.rate > 0.0;
        let y = if draws {
            let streams = self.rngs.split(batch.size);
            let parent = std::mem::replace(&mut self.rngs, RngStream::new(0));
            let mut outputs = Vec::with_capacity(batch.size);
            for (example, stream) in x.outer_iter().zip(streams) {
                self.rngs = stream;
                let output = self.forward(example, Some(false));
                outputs.push(output);
            }
            self.rngs = parent;
            let outputs = outputs.into_iter().collect::<Result<Vec<_>, _>>()?;
            let views: Vec<_> = outputs.iter().map(|y| y.view()).collect();
            ndarray::stack(Axis(0), &views).map_err(|_| ForwardError::Config {
                module: "Dropout",
                message: "the examples' outputs differ in shape".to_owned(),
            })?
        } else {
            self.forward(x.view(), deterministic)?
        };
        move_batch_axis(y, batch.out_axes)
    }
}
