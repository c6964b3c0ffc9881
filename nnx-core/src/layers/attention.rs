//! Attention, as Flax NNX has it: `MultiHeadAttention` and the functions
//! `dot_product_attention`, `make_attention_mask`, `make_causal_mask`, `combine_masks`.

use ndarray::{
    Array2, ArrayD, ArrayView1, ArrayView2, ArrayViewD, ArrayViewMutD, Axis, CowArray, Dimension,
    IxDyn, Zip,
};

use crate::batching::{Batch, Slot, VmapError};
use crate::fast_math;
use crate::layers::batch_axis::{batch_first, move_axis_to_front, move_batch_axis};
use crate::layers::{LayerNorm, LinearGeneral, NormConfig};
use crate::matmul::matmul_on_this_thread;
use crate::{Cache, ForwardError, Key, Rngs, module};
use rand_distr::{Distribution, StandardUniform};
use rayon::prelude::*;

/// What a masked logit becomes, as in JAX: finite, so a row with every key masked gets
/// uniform weights (the mean of the values), never NaN.
const MASKED_LOGIT: f32 = -0.7 * f32::MAX;

fn config_error(message: String) -> ForwardError {
    ForwardError::Config {
        module: "MultiHeadAttention",
        message,
    }
}

fn shape_error(arg: &'static str, found: &[usize], expected: String) -> ForwardError {
    ForwardError::Shape {
        module: "dot_product_attention",
        arg,
        found: found.to_vec(),
        expected,
    }
}

/// `softmax(q·kᵀ / sqrt(head_dim), masked) · v` per head, as `nnx.dot_product_attention`:
/// `query` is `[batch.., T, heads, head_dim]`, `key` and `value` `[batch.., S, kv_heads,
/// head_dim]` with `kv_heads` dividing `heads` (query head `n` reads kv head
/// `n / (heads / kv_heads)`: grouped-query and multi-query attention), and `mask`
/// (true = attend) broadcasts to `[batch.., heads, T, S]`. Returns `[batch.., T, heads,
/// head_dim]`. The mask is applied inside the softmax pass, without a copy.
pub fn dot_product_attention(
    query: ArrayViewD<'_, f32>,
    key: ArrayViewD<'_, f32>,
    value: ArrayViewD<'_, f32>,
    mask: Option<ArrayViewD<'_, bool>>,
) -> Result<ArrayD<f32>, ForwardError> {
    attend(query, key, value, mask, None)
}

/// Attention-weight dropout as Flax's `dot_product_attention` applies it by default
/// (`broadcast_dropout=True`): one keep mask of the weights' `[T, S]`, shared by every
/// batch index and head, the kept weights scaled by `1 / keep_prob`.
struct WeightDropout {
    /// `keep / keep_prob` per `[t, s]`.
    multiplier: Array2<f32>,
}

impl WeightDropout {
    /// The mask drawn from `rng`: one uniform `f32` per `[t, s]` in row-major order,
    /// kept when below `1 - rate`.
    fn draw(rate: f32, rng: &mut Key, t: usize, s: usize) -> Self {
        let keep_prob = 1.0 - rate;
        let multiplier = Array2::from_shape_simple_fn((t, s), || {
            let u: f32 = StandardUniform.sample(&mut *rng);
            if u < keep_prob { 1.0 / keep_prob } else { 0.0 }
        });
        Self { multiplier }
    }
}

fn attend(
    query: ArrayViewD<'_, f32>,
    key: ArrayViewD<'_, f32>,
    value: ArrayViewD<'_, f32>,
    mask: Option<ArrayViewD<'_, bool>>,
    dropout: Option<&WeightDropout>,
) -> Result<ArrayD<f32>, ForwardError> {
    let rank = query.ndim();
    if rank < 3 || key.ndim() != rank || value.ndim() != rank {
        return Err(shape_error(
            "query",
            query.shape(),
            format!(
                "query, key and value need the same rank, at least 3 (key {:?})",
                key.shape()
            ),
        ));
    }
    let batch = &query.shape()[..rank - 3];
    let [t, heads, depth] = [
        query.shape()[rank - 3],
        query.shape()[rank - 2],
        query.shape()[rank - 1],
    ];
    let [src, kv_heads, kdepth] = [
        key.shape()[rank - 3],
        key.shape()[rank - 2],
        key.shape()[rank - 1],
    ];
    if &key.shape()[..rank - 3] != batch
        || kdepth != depth
        || kv_heads == 0
        || heads % kv_heads != 0
    {
        return Err(shape_error(
            "key",
            key.shape(),
            format!(
                "key must be [batch.., S, kv_heads, {depth}] with kv_heads dividing {heads}, batch {batch:?}"
            ),
        ));
    }
    if value.shape() != key.shape() {
        return Err(shape_error(
            "value",
            value.shape(),
            format!("value must have key's shape {:?}", key.shape()),
        ));
    }
    let mut logits_shape: Vec<usize> = batch.to_vec();
    logits_shape.extend([heads, t, src]);
    let mask_shape = mask.as_ref().map(|m| m.shape().to_vec());
    let padded = mask.map(|m| pad_left(m, logits_shape.len()));
    let mask =
        match &padded {
            Some(padded) => Some(padded.broadcast(IxDyn(&logits_shape)).ok_or_else(|| {
                ForwardError::MaskShape {
                    module: "dot_product_attention",
                    mask: mask_shape.clone().unwrap_or_default(),
                    x: logits_shape.clone(),
                }
            })?),
            None => None,
        };
    let scale = 1.0 / (depth as f32).sqrt();
    let group = heads / kv_heads;
    // One task per (example, head) on rayon's pool, each product on its own thread.
    let examples: Vec<IxDyn> = ndarray::indices(batch).into_iter().collect();
    let tasks: Vec<(usize, usize)> = (0..examples.len())
        .flat_map(|e| (0..heads).map(move |n| (e, n)))
        .collect();
    let one_head = |&(e, n): &(usize, usize)| {
        let index = examples[e].slice();
        let (q, k, v) = (
            lead(query.view(), index),
            lead(key.view(), index),
            lead(value.view(), index),
        );
        let kv = n / group;
        let mut weights = matmul_on_this_thread(head(&q, n), head(&k, kv).t());
        let head_mask: Option<ArrayView2<'_, bool>> = mask.as_ref().map(|m| {
            lead(m.view(), index)
                .index_axis_move(Axis(0), n)
                .into_dimensionality()
                .expect("[T, S]")
        });
        masked_softmax(&mut weights, scale, head_mask);
        if let Some(dropout) = dropout {
            weights *= &dropout.multiplier;
        }
        matmul_on_this_thread(weights.view(), head(&v, kv))
    };
    let outputs: Vec<Array2<f32>> = tasks.par_iter().map(one_head).collect();
    let mut out = ArrayD::zeros(query.raw_dim());
    for (&(e, n), y) in tasks.iter().zip(&outputs) {
        lead_mut(out.view_mut(), examples[e].slice())
            .index_axis_mut(Axis(1), n)
            .assign(y);
    }
    Ok(out)
}

/// Head `h` of a `[len, heads, head_dim]` view, as `[len, head_dim]`.
fn head<'a>(a: &'a ArrayViewD<'_, f32>, h: usize) -> ArrayView2<'a, f32> {
    a.index_axis(Axis(1), h)
        .into_dimensionality()
        .expect("[len, head_dim]")
}

/// Each row of `logits` scaled, masked and turned into weights in place, in one pass per
/// row after its maximum. The exponential is [`fast_math::exp`]: libm's `expf` was a
/// third of attention's time, most of it in its underflow path, which every masked
/// logit takes.
fn masked_softmax(logits: &mut Array2<f32>, scale: f32, mask: Option<ArrayView2<'_, bool>>) {
    let columns = logits.ncols().max(1);
    let logits = logits
        .as_slice_mut()
        .expect("matmul returns a row-major array");
    for (t, row) in logits.chunks_exact_mut(columns).enumerate() {
        match &mask {
            Some(mask) => {
                let keep = mask.row(t);
                for (l, &keep) in row.iter_mut().zip(&keep) {
                    *l = if keep { *l * scale } else { MASKED_LOGIT };
                }
            }
            None => row.iter_mut().for_each(|l| *l *= scale),
        }
        let max = row_max(row);
        row.iter_mut().for_each(|l| *l = fast_math::exp(*l - max));
        // ndarray's sum, whose order of additions the Flax vectors were checked with.
        let sum = ArrayView1::from(&*row).sum();
        row.iter_mut().for_each(|p| *p /= sum);
    }
}

/// The largest element, NaN ignored (as `f32::max`), in lanes that vectorize.
fn row_max(row: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let blocks = row.chunks_exact(LANES);
    let tail = blocks.remainder();
    for block in blocks {
        for (m, &l) in lanes.iter_mut().zip(block) {
            *m = m.max(l);
        }
    }
    tail.iter()
        .chain(&lanes)
        .fold(f32::NEG_INFINITY, |m, &l| m.max(l))
}

/// `a` with its first `index.len()` axes fixed at `index`.
fn lead<'a, T>(mut a: ArrayViewD<'a, T>, index: &[usize]) -> ArrayViewD<'a, T> {
    for &i in index {
        a = a.index_axis_move(Axis(0), i);
    }
    a
}

fn lead_mut<'a, T>(mut a: ArrayViewMutD<'a, T>, index: &[usize]) -> ArrayViewMutD<'a, T> {
    for &i in index {
        a = a.index_axis_move(Axis(0), i);
    }
    a
}

/// `a` with 1s added on the left of its shape up to `rank`, as numpy broadcasting does.
fn pad_left<T>(mut a: ArrayViewD<'_, T>, rank: usize) -> ArrayViewD<'_, T> {
    while a.ndim() < rank {
        a = a.insert_axis(Axis(0));
    }
    a
}

/// A causal mask for a sequence: `tokens_shape` is `[batch.., T]` (the shape of what
/// `nnx.make_causal_mask` takes), the mask `[batch.., 1, T, T]` with `mask[.., t, s] =
/// s <= t`. An empty shape (no sequence axis) is an error.
pub fn make_causal_mask(tokens_shape: &[usize]) -> Result<ArrayD<bool>, ForwardError> {
    let Some((&t, batch)) = tokens_shape.split_last() else {
        return Err(shape_error(
            "tokens",
            tokens_shape,
            "a rank of at least 1 ([batch.., T])".to_owned(),
        ));
    };
    let mut shape = batch.to_vec();
    shape.extend([1, t, t]);
    Ok(ArrayD::from_shape_fn(IxDyn(&shape), |i| {
        let r = i.ndim();
        i[r - 1] <= i[r - 2]
    }))
}

/// `mask[.., 0, t, s] = query[.., t] && key[.., s]`, as `nnx.make_attention_mask` with
/// its default `multiply` (`query` is `[batch.., T]`, `key` `[batch.., S]`).
pub fn make_attention_mask(
    query: ArrayViewD<'_, bool>,
    key: ArrayViewD<'_, bool>,
) -> Result<ArrayD<bool>, ForwardError> {
    let (Some((&t, qb)), Some((&src, kb))) = (query.shape().split_last(), key.shape().split_last())
    else {
        return Err(shape_error(
            "query",
            query.shape(),
            "a rank of at least 1".to_owned(),
        ));
    };
    if qb != kb {
        return Err(shape_error(
            "key",
            key.shape(),
            format!("key's batch axes must be query's {qb:?}"),
        ));
    }
    let mut shape = qb.to_vec();
    shape.extend([1, t, src]);
    Ok(ArrayD::from_shape_fn(IxDyn(&shape), |i| {
        let r = i.ndim();
        let b: Vec<usize> = (0..r - 3).map(|a| i[a]).collect();
        let (qi, ki) = (
            b.iter().copied().chain([i[r - 2]]).collect::<Vec<_>>(),
            b.iter().copied().chain([i[r - 1]]).collect::<Vec<_>>(),
        );
        query[IxDyn(&qi)] && key[IxDyn(&ki)]
    }))
}

/// The masks that are present, combined with logical and (after numpy broadcasting), as
/// `nnx.combine_masks`; `None` when none is.
pub fn combine_masks(
    masks: &[Option<ArrayViewD<'_, bool>>],
) -> Result<Option<ArrayD<bool>>, ForwardError> {
    let mut present = masks.iter().flatten();
    let Some(first) = present.next() else {
        return Ok(None);
    };
    let mut combined = first.to_owned();
    for mask in present {
        let rank = combined.ndim().max(mask.ndim());
        let shape: Vec<usize> = (0..rank)
            .map(|a| {
                let dim = |m: &[usize]| m.len().checked_sub(rank - a).map_or(1, |i| m[i]);
                dim(combined.shape()).max(dim(mask.shape()))
            })
            .collect();
        let error = || ForwardError::MaskShape {
            module: "combine_masks",
            mask: mask.shape().to_vec(),
            x: combined.shape().to_vec(),
        };
        let (left, right) = (pad_left(combined.view(), rank), pad_left(mask.view(), rank));
        let shape = IxDyn(&shape);
        let left = left.broadcast(shape.clone()).ok_or_else(error)?;
        let right = right.broadcast(shape).ok_or_else(error)?;
        let both = Zip::from(&left).and(&right).map_collect(|&a, &b| a && b);
        combined = both;
    }
    Ok(Some(combined))
}

/// Flax's constructor options for [`MultiHeadAttention`], with Flax's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct AttentionConfig {
    /// Query heads.
    pub num_heads: usize,
    /// The query input's features.
    pub in_features: usize,
    /// Query/key/value features over all heads (default `in_features`).
    pub qkv_features: Option<usize>,
    /// Output features (default `in_features`).
    pub out_features: Option<usize>,
    /// The key/value inputs' features (default `in_features`).
    pub in_kv_features: Option<usize>,
    /// Key/value heads for grouped-query (or, at 1, multi-query) attention (default
    /// `num_heads`).
    pub num_kv_heads: Option<usize>,
    /// Biases in the four projections (default true).
    pub use_bias: bool,
    /// LayerNorm (no bias) on each head's queries and keys (default false).
    pub normalize_qk: bool,
    /// Dropout on the attention weights (default 0; see [`MultiHeadAttention`]).
    pub dropout_rate: f32,
}

impl AttentionConfig {
    /// Flax's defaults for `num_heads` heads over `in_features`.
    pub fn new(num_heads: usize, in_features: usize) -> Self {
        Self {
            num_heads,
            in_features,
            qkv_features: None,
            out_features: None,
            in_kv_features: None,
            num_kv_heads: None,
            use_bias: true,
            normalize_qk: false,
            dropout_rate: 0.0,
        }
    }
}

/// Multi-head attention (`flax.nnx.MultiHeadAttention`):
/// `query`, `key` and `value` project to `[.., len, heads, head_dim]`, each query head
/// attends over the keys (through [`dot_product_attention`]), and `out` projects the
/// heads back to `out_features`. State paths are Flax's: `query.kernel`
/// `[in, heads, head_dim]`, `query.bias`, ..., `out.kernel` `[heads, head_dim, out]`.
///
/// Attention-weight dropout (`dropout_rate > 0`) follows Flax's defaults: a call must say
/// `deterministic`; with `Some(false)` it draws from the key given as `dropout_rng` (as
/// Flax's `rngs` argument) one keep mask of the weights' `[T, S]`, shared by every batch
/// index and head (`broadcast_dropout=True`), and scales the kept weights by
/// `1 / (1 - rate)`. The key is a value, not module state, so the layer stays `&self`.
///
/// Autoregressive decoding, as Flax's `decode=True`: [`init_cache`](Self::init_cache)
/// makes the cache (`cached_key`, `cached_value`, `cache_index`, of kind
/// [`Cache`](crate::VarKind::Cache), at Flax's paths), then each
/// [`decode`](Self::decode) call takes one token, stores its key and value, and attends
/// over every token stored so far.
#[module]
#[derive(Clone, Debug, PartialEq)]
pub struct MultiHeadAttention {
    /// `[in_features] → [heads, head_dim]`.
    pub query: LinearGeneral,
    /// `[in_kv_features] → [kv_heads, head_dim]`.
    pub key: LinearGeneral,
    /// `[in_kv_features] → [kv_heads, head_dim]`.
    pub value: LinearGeneral,
    /// Per-head query LayerNorm (`normalize_qk`).
    pub query_ln: Option<LayerNorm>,
    /// Per-head key LayerNorm (`normalize_qk`).
    pub key_ln: Option<LayerNorm>,
    /// `[heads, head_dim] → [out_features]`.
    pub out: LinearGeneral,
    /// Keys of the tokens decoded so far, `[batch.., max_length, kv_heads, head_dim]`.
    pub cached_key: Option<Cache<ArrayD<f32>>>,
    /// Their values, the same shape.
    pub cached_value: Option<Cache<ArrayD<f32>>>,
    /// How many tokens are cached (a whole number, as an `f32` scalar).
    pub cache_index: Option<Cache<ArrayD<f32>>>,
    /// The options it was built with.
    #[module(skip)]
    pub config: AttentionConfig,
}

impl MultiHeadAttention {
    /// Flax's defaults: `num_heads` heads over `in_features`. An error if the heads do
    /// not divide the features.
    pub fn new(
        num_heads: usize,
        in_features: usize,
        rngs: &mut Rngs,
    ) -> Result<Self, ForwardError> {
        Self::with_config(AttentionConfig::new(num_heads, in_features), rngs)
    }

    /// Any options; an error names the ones that do not fit together.
    pub fn with_config(config: AttentionConfig, rngs: &mut Rngs) -> Result<Self, ForwardError> {
        let heads = config.num_heads;
        let qkv = config.qkv_features.unwrap_or(config.in_features);
        let kv_heads = config.num_kv_heads.unwrap_or(heads);
        if heads == 0 || !qkv.is_multiple_of(heads) {
            return Err(config_error(format!(
                "num_heads = {heads} does not divide qkv_features = {qkv}"
            )));
        }
        if kv_heads == 0 || !heads.is_multiple_of(kv_heads) {
            return Err(config_error(format!(
                "num_kv_heads = {kv_heads} does not divide num_heads = {heads}"
            )));
        }
        let depth = qkv / heads;
        let kv_in = config.in_kv_features.unwrap_or(config.in_features);
        let out = config.out_features.unwrap_or(config.in_features);
        let bias = config.use_bias;
        let head_norm = || {
            let mut cfg = NormConfig::new(depth);
            cfg.use_bias = false;
            LayerNorm::with_config(cfg)
        };
        Ok(Self {
            query: LinearGeneral::new(&[config.in_features], &[heads, depth], bias, rngs),
            key: LinearGeneral::new(&[kv_in], &[kv_heads, depth], bias, rngs),
            value: LinearGeneral::new(&[kv_in], &[kv_heads, depth], bias, rngs),
            query_ln: config.normalize_qk.then(head_norm),
            key_ln: config.normalize_qk.then(head_norm),
            out: LinearGeneral::new(&[heads, depth], &[out], bias, rngs),
            cached_key: None,
            cached_value: None,
            cache_index: None,
            config,
        })
    }

    /// An empty decode cache for inputs of batch shape `batch` (the axes before the
    /// sequence) and up to `max_length` tokens, as Flax's `init_cache`; replaces any
    /// cache there was.
    pub fn init_cache(&mut self, batch: &[usize], max_length: usize) {
        let heads = self.config.num_heads;
        let kv_heads = self.config.num_kv_heads.unwrap_or(heads);
        let depth = self.config.qkv_features.unwrap_or(self.config.in_features) / heads;
        let shape: Vec<usize> = batch
            .iter()
            .copied()
            .chain([max_length, kv_heads, depth])
            .collect();
        self.cached_key = Some(Cache::new(ArrayD::zeros(shape.clone())));
        self.cached_value = Some(Cache::new(ArrayD::zeros(shape)));
        self.cache_index = Some(Cache::new(ArrayD::zeros(IxDyn(&[]))));
    }
}

#[module]
impl MultiHeadAttention {
    /// Attends from `inputs_q` (`[batch.., T, in_features]`) over `inputs_k` (default:
    /// `inputs_q`) with values from `inputs_v` (default: `inputs_k`). `mask` (true =
    /// attend) broadcasts to `[batch.., heads, T, S]`; `is_causal` also masks every key
    /// after its query.
    #[call]
    #[batched(forward_batched)]
    // Flax's call signature, keyword for keyword.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        inputs_q: ArrayViewD<'_, f32>,
        #[kw] inputs_k: Option<ArrayViewD<'_, f32>>,
        #[kw] inputs_v: Option<ArrayViewD<'_, f32>>,
        #[kw] mask: Option<ArrayViewD<'_, bool>>,
        #[kw] deterministic: Option<bool>,
        #[kw(default = false)] is_causal: bool,
        #[kw] dropout_rng: Option<Key>,
    ) -> Result<ArrayD<f32>, ForwardError> {
        let rate = self.config.dropout_rate;
        if !(0.0..1.0).contains(&rate) {
            return Err(config_error(format!(
                "`dropout_rate` is {rate}; it must lie in [0, 1)"
            )));
        }
        let mut dropout_rng = match (rate > 0.0, deterministic, dropout_rng) {
            (false, ..) | (true, Some(true), _) => None,
            (true, Some(false), Some(rng)) => Some(rng),
            (true, None, _) | (true, Some(false), None) => {
                return Err(config_error(format!(
                    "dropout_rate is {rate}: call with `deterministic = Some(true)`, or with \
                     `deterministic = Some(false)` and a key to draw the dropout from \
                     (`dropout_rng = Some(rngs.dropout())`)"
                )));
            }
        };
        if inputs_k.is_none() && inputs_v.is_some() {
            return Err(config_error(
                "`inputs_v` was given without `inputs_k`: give both, or neither for \
                 self-attention (Flax refuses this too)"
                    .to_owned(),
            ));
        }
        let inputs_k = inputs_k.unwrap_or_else(|| inputs_q.clone());
        let inputs_v = inputs_v.unwrap_or_else(|| inputs_k.clone());
        let mut q = self.query.forward(inputs_q)?;
        let mut k = self.key.forward(inputs_k)?;
        let v = self.value.forward(inputs_v)?;
        if let (Some(q_ln), Some(k_ln)) = (&self.query_ln, &self.key_ln) {
            q = q_ln.forward(q.view(), None)?;
            k = k_ln.forward(k.view(), None)?;
        }
        // Projections of a rank-1 input have no sequence axis: dot_product_attention
        // reports that; the causal mask must not index it first.
        let length = |a: &ArrayD<f32>| a.ndim().checked_sub(3).map(|axis| a.shape()[axis]);
        let causal = match (is_causal, length(&q), length(&k)) {
            (true, Some(t), Some(src)) => {
                Some(ArrayD::from_shape_fn(IxDyn(&[t, src]), |i| i[1] <= i[0]))
            }
            _ => None,
        };
        let mask = combine_masks(&[mask, causal.as_ref().map(|c| c.view())])?;
        let dropout = match (&mut dropout_rng, length(&q), length(&k)) {
            (Some(rng), Some(t), Some(s)) => Some(WeightDropout::draw(rate, rng, t, s)),
            _ => None,
        };
        let heads = attend(
            q.view(),
            k.view(),
            v.view(),
            mask.as_ref().map(|m| m.view()),
            dropout.as_ref(),
        )?;
        self.out.forward(heads.view())
    }

    /// One decoding step (Flax's `decode=True`): `inputs_q` is `[batch.., 1,
    /// in_features]`, a single token per sequence; its key and value go into the cache
    /// at `cache_index`, and it attends over every cached token (itself included).
    /// Self-attention only; an error before [`init_cache`](Self::init_cache), when the
    /// cache is full, or for more than one token.
    pub fn decode(&mut self, inputs_q: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
        let (Some(keys), Some(values), Some(index)) = (
            self.cached_key.as_mut(),
            self.cached_value.as_mut(),
            self.cache_index.as_mut(),
        ) else {
            return Err(config_error(
                "decode needs a cache: call `init_cache(batch, max_length)` first".to_owned(),
            ));
        };
        let rank = keys.ndim();
        let expected: Vec<usize> = keys.shape()[..rank - 3]
            .iter()
            .copied()
            .chain([1, self.config.in_features])
            .collect();
        if inputs_q.shape() != expected.as_slice() {
            return Err(shape_error(
                "inputs_q",
                inputs_q.shape(),
                format!("decode takes one token per sequence, {expected:?}, for the cache's batch"),
            ));
        }
        let max_length = keys.shape()[rank - 3];
        let position = index.value[[]] as usize;
        if position >= max_length {
            return Err(config_error(format!(
                "the decode cache is full ({max_length} tokens); call `init_cache` again"
            )));
        }
        let mut q = self.query.forward(inputs_q.view())?;
        let mut k = self.key.forward(inputs_q.view())?;
        let v = self.value.forward(inputs_q)?;
        if let (Some(q_ln), Some(k_ln)) = (&self.query_ln, &self.key_ln) {
            q = q_ln.forward(q.view(), None)?;
            k = k_ln.forward(k.view(), None)?;
        }
        let sequence = Axis(rank - 3);
        keys.value
            .index_axis_mut(sequence, position)
            .assign(&k.index_axis(sequence, 0));
        values
            .value
            .index_axis_mut(sequence, position)
            .assign(&v.index_axis(sequence, 0));
        index.value[[]] = (position + 1) as f32;
        // The token sees every cached position up to its own.
        let seen = ArrayD::from_shape_fn(IxDyn(&[1, max_length]), |i| i[1] <= position);
        let heads = attend(
            q.view(),
            keys.view(),
            values.view(),
            Some(seen.view()),
            None,
        )?;
        self.out.forward(heads.view())
    }
}

impl MultiHeadAttention {
    /// The batching rule: the batch axis becomes one more leading axis of the queries
    /// (and of mapped keys, values and masks), so every example goes through the same
    /// projections and one attention per head over the whole batch.
    #[allow(clippy::too_many_arguments)]
    fn forward_batched(
        &self,
        inputs_q: Slot<ArrayViewD<'_, f32>>,
        inputs_k: Slot<Option<ArrayViewD<'_, f32>>>,
        inputs_v: Slot<Option<ArrayViewD<'_, f32>>>,
        mask: Slot<Option<ArrayViewD<'_, bool>>>,
        deterministic: Slot<Option<bool>>,
        is_causal: Slot<bool>,
        dropout_rng: Slot<Option<Key>>,
        batch: Batch<isize>,
    ) -> Result<ArrayD<f32>, VmapError> {
        // A key cannot be mapped: every example draws the same mask, as each would alone
        // with that key (JAX's broadcast key), so one call on the whole batch is the same.
        let Slot::Broadcast(dropout_rng) = dropout_rng;
        let (Slot::Broadcast(deterministic), Slot::Broadcast(is_causal)) =
            (&deterministic, &is_causal)
        else {
            return Err(config_error(
                "`deterministic` and `is_causal` are one value for the whole batch under \
                 vmap!; give them `None` in in_axes"
                    .to_owned(),
            )
            .into());
        };
        let q = batch_first(inputs_q, batch.size);
        // An example needs a sequence axis besides its features; a batch axis must not
        // pass for one.
        if q.ndim() < 3 {
            return Err(config_error(format!(
                "each example of inputs_q needs [.., length, features]; got {:?}",
                &q.shape()[1..]
            ))
            .into());
        }
        let (k, v) = (
            batch_first_optional(inputs_k, batch.size),
            batch_first_optional(inputs_v, batch.size),
        );
        // The logits are [batch, example batch.., heads, T, S]: a mapped mask gets unit
        // axes after its batch axis to reach that rank; a broadcast one aligns from the
        // end, as in a direct call.
        let logits_rank = q.ndim() + 1;
        let mask = match mask {
            Slot::Broadcast(mask) => mask.map(CowArray::from),
            Slot::Mapped { batched, axis } => {
                let mut m = move_axis_to_front(batched, axis as usize);
                if m.ndim() > logits_rank {
                    return Err(ForwardError::MaskShape {
                        module: "MultiHeadAttention",
                        mask: m.shape()[1..].to_vec(),
                        x: q.shape()[1..].to_vec(),
                    }
                    .into());
                }
                while m.ndim() < logits_rank {
                    m = m.insert_axis(Axis(1));
                }
                Some(CowArray::from(m))
            }
        };
        let y = self.forward(
            q.view(),
            k.as_ref().map(|k| k.view()),
            v.as_ref().map(|v| v.view()),
            mask.as_ref().map(|m| m.view()),
            *deterministic,
            *is_causal,
            dropout_rng,
        )?;
        move_batch_axis(y, batch.out_axes)
    }
}

/// An optional `vmap!` input made batch-first, as [`batch_first`] does for one that is
/// always there.
fn batch_first_optional(
    slot: Slot<Option<ArrayViewD<'_, f32>>>,
    size: usize,
) -> Option<CowArray<'_, f32, IxDyn>> {
    match slot {
        Slot::Broadcast(example) => example.map(|e| batch_first(Slot::Broadcast(e), size)),
        Slot::Mapped { batched, axis } => {
            Some(CowArray::from(move_axis_to_front(batched, axis as usize)))
        }
    }
}
