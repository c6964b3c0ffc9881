//! `vmap!` and `call!` through the public API: every result is checked against a loop
//! of direct per-example calls.

use ndarray::{Array1, Array2, Array3, ArrayD, ArrayView1, ArrayViewD, Axis, array, s};
use nnx::prelude::*;
use nnx::{ForwardError, ParamKind};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use rand_distr::{Distribution, StandardNormal};

fn random(shape: (usize, usize), seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn(shape, || StandardNormal.sample(&mut rng))
}

fn random_mask(shape: (usize, usize), seed: u64) -> Array2<bool> {
    random(shape, seed).mapv(|v| v > -0.5)
}

/// A LayerNorm whose scale and bias are not the trivial ones.
fn layer_norm(features: usize, seed: u64) -> LayerNorm {
    let mut ln = LayerNorm::new(features);
    ln.scale.as_mut().unwrap().value = random((1, features), seed).row(0).mapv(|v| 1.0 + 0.3 * v);
    ln.bias.as_mut().unwrap().value = random((1, features), seed + 1).row(0).to_owned();
    ln
}

/// Rows of `x` (examples along `axis`) through direct calls, stacked on axis 0.
fn loop_rows(
    ln: &LayerNorm,
    x: &Array2<f32>,
    mask: Option<&Array2<bool>>,
    axis: usize,
) -> Array2<f32> {
    let rows: Vec<Array1<f32>> = (0..x.len_of(Axis(axis)))
        .map(|i| {
            let xi = x.index_axis(Axis(axis), i).into_dyn();
            let mi = mask.map(|m| m.index_axis(Axis(axis), i).into_dyn());
            ln.forward(xi, mi).unwrap().into_dimensionality().unwrap()
        })
        .collect();
    let views: Vec<ArrayView1<f32>> = rows.iter().map(|r| r.view()).collect();
    ndarray::stack(Axis(0), &views).unwrap()
}

fn max_abs_diff(a: &ArrayD<f32>, b: &ArrayD<f32>) -> f32 {
    assert_eq!(a.shape(), b.shape());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn seed_scenario_layer_norm_with_mask_keyword() {
    let ln = layer_norm(10, 1);
    let x = random((15, 10), 2);
    let m = random_mask((15, 10), 3);
    let plain = vmap!(ln(x)).unwrap();
    assert_eq!(
        max_abs_diff(&plain, &loop_rows(&ln, &x, None, 0).into_dyn()),
        0.0
    );
    let masked = vmap!(ln(x, mask = m)).unwrap();
    assert_eq!(
        max_abs_diff(&masked, &loop_rows(&ln, &x, Some(&m), 0).into_dyn()),
        0.0
    );
    assert!(
        max_abs_diff(&masked, &plain) > 1e-3,
        "the mask must change the result"
    );
}

/// A keyword value may borrow a temporary: it lives through the call, as it would in
/// a direct call's argument list.
#[test]
fn keyword_values_may_borrow_temporaries() {
    let ln = layer_norm(10, 1);
    let x = random((15, 10), 2);
    let m = random_mask((15, 10), 3);
    let row = call!(ln(x.row(0), mask = Some(m.mapv(|keep| keep).row(0)))).unwrap();
    let direct = ln
        .forward(x.row(0).into_dyn(), Some(m.row(0).into_dyn()))
        .unwrap();
    assert_eq!(max_abs_diff(&row, &direct), 0.0);
    let rows = vmap!(ln(x, mask = &m.mapv(|keep| keep))).unwrap();
    assert_eq!(
        max_abs_diff(&rows, &loop_rows(&ln, &x, Some(&m), 0).into_dyn()),
        0.0
    );
}

#[test]
fn in_axes_and_out_axes_move_the_batch() {
    let ln = layer_norm(10, 4);
    let xt = random((10, 15), 5); // examples along axis 1
    let mt = random_mask((10, 15), 6);
    let y = vmap!(ln(xt, mask = mt), in_axes = (1, mask = 1), out_axes = 1).unwrap();
    assert_eq!(y.shape(), [10, 15]);
    let expected = loop_rows(&ln, &xt, Some(&mt), 1).reversed_axes();
    assert_eq!(max_abs_diff(&y, &expected.into_dyn()), 0.0);
    // Negative axes count from the end.
    let y_neg = vmap!(ln(xt, mask = mt), in_axes = (-1, mask = -1), out_axes = -1).unwrap();
    assert_eq!(y_neg, y);
    // A single in_axes applies to every argument.
    let y_all = vmap!(ln(xt, mask = mt), in_axes = 1).unwrap();
    assert_eq!(y_all.shape(), [15, 10]);
}

#[test]
fn a_broadcast_mask_is_shared_by_every_example() {
    let ln = layer_norm(6, 7);
    let x = random((5, 6), 8);
    let shared = array![true, true, false, true, false, true];
    let y = vmap!(ln(x, mask = shared.view()), in_axes = (0, mask = None)).unwrap();
    let masks = Array2::from_shape_fn((5, 6), |(_, j)| shared[j]);
    assert_eq!(
        max_abs_diff(&y, &loop_rows(&ln, &x, Some(&masks), 0).into_dyn()),
        0.0
    );
}

#[test]
fn function_form_is_a_reusable_closure() {
    let ln = layer_norm(10, 9);
    let f = vmap!(
        |op: &LayerNorm, x: ArrayViewD<f32>| op(x),
        in_axes = (None, 0)
    );
    let x = random((15, 10), 10);
    let y = f(&ln, x.view().into_dyn()).unwrap();
    assert_eq!(
        max_abs_diff(&y, &loop_rows(&ln, &x, None, 0).into_dyn()),
        0.0
    );
    let again = f(&ln, x.slice(s![..3, ..]).into_dyn()).unwrap();
    assert_eq!(again.shape(), [3, 10]);
}

#[test]
fn nested_vmap_runs_per_head_inside_per_batch() {
    let ln = layer_norm(4, 11);
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let x = Array3::<f32>::from_shape_simple_fn((2, 3, 4), || StandardNormal.sample(&mut rng));
    let per_batch = vmap!(
        |op: &LayerNorm, heads: ArrayViewD<f32>| vmap!(op(heads)),
        in_axes = (None, 0)
    );
    let y = per_batch(&ln, x.view().into_dyn()).unwrap();
    assert_eq!(y.shape(), [2, 3, 4]);
    for b in 0..2 {
        for h in 0..3 {
            let direct = call!(ln(x.slice(s![b, h, ..]))).unwrap();
            assert_eq!(y.slice(s![b, h, ..]).into_dyn(), direct);
        }
    }
}

#[test]
fn ensembles_map_over_stacked_modules() {
    // Not `mut`: LayerNorm's forward takes `&self`, so vmap! borrows the ensemble shared.
    let ensemble = Stacked::new(4, |i| layer_norm(10, 100 + i as u64));
    let x = random((4, 10), 13);
    let y = vmap!(ensemble(x), in_axes = (0, self = 0)).unwrap();
    for i in 0..4 {
        let direct = call!((ensemble[i])(x.row(i))).unwrap();
        assert_eq!(y.index_axis(Axis(0), i), direct);
    }
    // Broadcasting x over the members instead.
    let shared = x.row(0).into_dyn();
    let y = vmap!(ensemble(shared), in_axes = (None, self = 0)).unwrap();
    for i in 0..4 {
        let direct = call!((ensemble[i])(x.row(0))).unwrap();
        assert_eq!(y.index_axis(Axis(0), i), direct);
    }
    assert_eq!(ensemble.state().paths().next(), Some("0.scale"));
}

/// An ensemble inside a module, vmapped from a `&self` forward: the `Stacked` field is
/// borrowed shared, as its members' `&self` method needs.
#[module]
struct Heads {
    heads: Stacked<LayerNorm>,
}

#[module]
impl Heads {
    #[call]
    pub fn forward(&self, xs: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, VmapError> {
        vmap!((self.heads)(xs), in_axes = (0, self = 0))
    }
}

#[test]
fn ensembles_work_behind_a_shared_reference() {
    let model = Heads {
        heads: Stacked::new(3, |i| layer_norm(6, 40 + i as u64)),
    };
    let xs = random((3, 6), 5);
    let ys = call!(model(xs.view())).unwrap();
    let shared: &Heads = &model;
    for i in 0..3 {
        let direct = call!((shared.heads[i])(xs.row(i))).unwrap();
        assert_eq!(ys.index_axis(Axis(0), i), direct);
    }
}

/// A user module without a batching rule: vmap falls back to per-example calls.
#[module]
struct Counter {
    total: BatchStat<Array1<f32>>,
}

#[module]
impl Counter {
    /// Adds `x * weight` to the running total and returns the new total and its sum.
    pub fn add(
        &mut self,
        x: ArrayViewD<'_, f32>,
        #[kw(default = 1.0)] weight: f32,
    ) -> Result<(ArrayD<f32>, ArrayD<f32>), ForwardError> {
        self.total
            .value
            .zip_mut_with(&x, |total, &v| *total += v * weight);
        Ok((
            self.total.value.clone().into_dyn(),
            ndarray::arr0(self.total.sum()).into_dyn(),
        ))
    }
}

#[test]
fn mutating_methods_run_on_their_own_member_and_tuples_take_out_axes() {
    let mut counters = Stacked::new(3, |_| Counter {
        total: BatchStat::new(Array1::zeros(2)),
    });
    let x = array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]];
    let (totals, sums) = vmap!(
        counters.add(x, weight = 2.0),
        in_axes = (0, weight = None, self = 0),
        out_axes = (1, 0)
    )
    .unwrap();
    assert_eq!(
        totals,
        array![[2.0f32, 6.0, 10.0], [4.0, 8.0, 12.0]].into_dyn()
    );
    assert_eq!(sums, array![6.0f32, 14.0, 22.0].into_dyn());
    assert_eq!(counters[2].total.value, array![10.0, 12.0]);
    // One out_axes for both outputs of the pair.
    let (totals, _) = vmap!(counters.add(x), in_axes = (0, self = 0), out_axes = 0).unwrap();
    assert_eq!(totals.shape(), [3, 2]);
    assert_eq!(counters[2].total.value, array![15.0, 18.0]);
    // The default weight is 1.
    call!(counters[0].add(x.row(0))).unwrap();
    assert_eq!(counters[0].total.value, array![4.0, 8.0]);
}

/// The user's own error type: not a `ForwardError`, not a `VmapError`.
#[derive(Debug, PartialEq)]
struct Negative {
    at: f32,
}

impl std::fmt::Display for Negative {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "negative input {}", self.at)
    }
}

impl std::error::Error for Negative {}

/// Counts the examples it has seen, and refuses negative ones.
#[module]
struct Guard {
    seen: BatchStat<Array1<f32>>,
}

#[module]
impl Guard {
    pub fn check(&mut self, x: ArrayView1<'_, f32>) -> Result<f32, Negative> {
        self.seen.value[0] += 1.0;
        match x.iter().find(|&&v| v < 0.0) {
            Some(&at) => Err(Negative { at }),
            None => Ok(x.sum()),
        }
    }

    /// The same check with a `String` error, as quick code often has.
    pub fn peek(&self, x: ArrayView1<'_, f32>) -> Result<f32, String> {
        match x.iter().find(|&&v| v < 0.0) {
            Some(at) => Err(format!("negative input {at}")),
            None => Ok(x.sum()),
        }
    }
}

#[test]
fn user_errors_name_the_example_and_stop_the_run() {
    let mut guards = Stacked::new(3, |_| Guard {
        seen: BatchStat::new(array![0.0]),
    });
    let ok = array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]];
    let sums = vmap!(guards.check(ok), in_axes = (0, self = 0)).unwrap();
    assert_eq!(sums, array![3.0f32, 7.0, 11.0]);
    // Example 1 fails: members 0 and 1 ran, member 2 did not.
    let bad = array![[1.0f32, 2.0], [3.0, -4.0], [5.0, 6.0]];
    let err = vmap!(guards.check(bad), in_axes = (0, self = 0)).unwrap_err();
    assert_eq!(err.to_string(), "example 1: negative input -4");
    let VmapError::Example { index: 1, error } = &err else {
        panic!("{err:?}");
    };
    assert!(
        std::error::Error::source(&err).is_none(),
        "the message holds it"
    );
    let VmapError::User(user) = &**error else {
        panic!("{error:?}");
    };
    assert_eq!(user.get().downcast_ref(), Some(&Negative { at: -4.0 }));
    let seen: Vec<f32> = guards.members().iter().map(|g| g.seen.value[0]).collect();
    assert_eq!(seen, [2.0, 2.0, 1.0]);
    // A `String` error, on a broadcast module.
    let guard = Guard {
        seen: BatchStat::new(array![0.0]),
    };
    let err = vmap!(guard.peek(bad)).unwrap_err();
    assert_eq!(err.to_string(), "example 1: negative input -4");
    assert_eq!(vmap!(guard.peek(ok)).unwrap(), array![3.0f32, 7.0, 11.0]);
    // A closure stops at the failing example too.
    let calls = std::cell::Cell::new(0);
    let f = vmap!(|x: ArrayView1<f32>| {
        calls.set(calls.get() + 1);
        guard.peek(x)
    });
    assert!(f(bad.view()).is_err());
    assert_eq!(calls.get(), 2);
}

#[test]
fn data_errors_name_the_arguments_and_never_panic() {
    let ln = layer_norm(10, 14);
    let x = random((15, 10), 15);
    let short_mask = random_mask((14, 10), 16);
    let err = vmap!(ln(x, mask = short_mask)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "batch sizes disagree: `x` has 15 along its mapped axis but `mask` has 14"
    );
    let err = vmap!(ln(x), in_axes = 2).unwrap_err();
    assert_eq!(
        err.to_string(),
        "in_axes: axis 2 of `x` is out of range for its rank 2"
    );
    let err = vmap!(ln(x.row(0)), in_axes = None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "nothing is mapped: every argument is broadcast (None in in_axes) and no `axis_size` was given"
    );
    let bad_mask = random_mask((15, 3), 17);
    let err = vmap!(ln(x, mask = bad_mask)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "LayerNorm: `mask` of shape [3] does not broadcast to `x` of shape [10]"
    );
    let err = vmap!(ln(x), out_axes = 3).unwrap_err();
    assert!(err.to_string().starts_with("out_axes: axis 3"), "{err}");
}

/// Modules reached through `&mut` and `Box`, as in `fn step(model: &mut M, ..)`: method
/// resolution looks through them to the generated entries.
#[test]
fn receivers_behind_references_and_boxes() {
    fn through_mut(ln: &mut LayerNorm, xs: &Array2<f32>) -> (ArrayD<f32>, ArrayD<f32>) {
        (call!(ln(xs)).unwrap(), vmap!(ln(xs)).unwrap())
    }
    let mut ln = layer_norm(6, 30);
    let xs = random((3, 6), 31);
    let want = call!(ln(&xs)).unwrap();
    let (called, mapped) = through_mut(&mut ln, &xs);
    assert_eq!(called, want);
    assert_eq!(mapped, want);
    let boxed = Box::new(ln);
    assert_eq!(call!(boxed(&xs)).unwrap(), want);
    assert_eq!(vmap!(boxed(xs)).unwrap(), want);
    // Mapped arrays behind owning pointers, too.
    let (b, r, a) = (
        Box::new(xs.clone()),
        std::rc::Rc::new(xs.clone()),
        std::sync::Arc::new(xs.clone()),
    );
    assert_eq!(vmap!(boxed(b)).unwrap(), want);
    assert_eq!(vmap!(boxed(r)).unwrap(), want);
    assert_eq!(vmap!(boxed(a)).unwrap(), want);
}

#[test]
fn axis_size_repeats_a_broadcast_call() {
    let ln = layer_norm(5, 18);
    let x = random((1, 5), 19);
    let y = vmap!(ln(x.row(0)), in_axes = None, axis_size = 3).unwrap();
    assert_eq!(y.shape(), [3, 5]);
    let direct = call!(ln(x.row(0))).unwrap();
    for row in y.outer_iter() {
        assert_eq!(row, direct);
    }
    let xs = random((4, 5), 20);
    let err = vmap!(ln(xs), axis_size = 3).unwrap_err();
    assert_eq!(
        err.to_string(),
        "batch sizes disagree: `axis_size` is 3 but `x` has 4"
    );
    let ensemble = Stacked::new(3, |i| layer_norm(5, 21 + i as u64));
    let err = vmap!(ensemble(xs), in_axes = (0, self = 0)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "batch sizes disagree: `x` has 4 along its mapped axis but the stacked module has 3 members"
    );
}

#[test]
fn signatures_are_visible_at_run_time() {
    let forward = LayerNorm::call_signature();
    assert_eq!(forward.method, "forward");
    assert!(forward.batched && !forward.mutates);
    let mask = forward.param("mask").unwrap();
    assert_eq!(
        (mask.kind, mask.default),
        (ParamKind::Keyword, Some("None"))
    );
    assert_eq!(
        forward.to_string(),
        "LayerNorm::forward(&self, x: ArrayViewD<'_, f32>, *, mask: Option<ArrayViewD<'_, bool>> = None) -> Result<ArrayD<f32>, ForwardError>"
    );
    let add = Counter::signature("add").unwrap();
    assert!(add.mutates);
    assert_eq!(add.param("weight").unwrap().default, Some("1.0"));
}

/// Names the generated code also uses, `Self`, method lifetimes, and a method that
/// `vmap!` cannot handle (`#[no_vmap]`): none of them may break a module.
#[module]
struct Tricky {
    #[module(skip)]
    offset: f32,
}

#[module]
impl Tricky {
    /// Parameters named like the builders' internals, and a keyword named `call`.
    pub fn shift<'x>(
        &self,
        x: ArrayViewD<'x, f32>,
        #[kw(default = 1)] size: usize,
        #[kw(default = 0)] index: usize,
        #[kw(default = false)] call: bool,
    ) -> ArrayD<f32> {
        let extra = if call { 100.0 } else { 0.0 };
        &x + (self.offset * size as f32 + index as f32 + extra)
    }

    /// `Self` in a parameter, and an output vmap! cannot stack.
    #[no_vmap]
    pub fn describe(&self, other: &Self) -> String {
        format!("{} vs {}", self.offset, other.offset)
    }
}

#[test]
fn generated_names_never_capture_the_users() {
    let tricky = Tricky { offset: 2.0 };
    let x = array![[0.0f32, 1.0], [2.0, 3.0], [4.0, 5.0]];
    let y = vmap!(
        tricky.shift(x, size = 3, index = 7, call = true),
        in_axes = (0, size = None, index = None, call = None)
    )
    .unwrap();
    assert_eq!(y, (&x + 113.0).into_dyn());
    let once = call!(tricky.shift(x.row(0), index = 1));
    assert_eq!(once, array![3.0f32, 4.0].into_dyn());
    assert_eq!(call!(tricky.describe(&Tricky { offset: 1.0 })), "2 vs 1");
    // The closure form with a parameter named like its loop counter.
    let f = vmap!(
        |x: ArrayViewD<f32>, index: f32| &x + index,
        in_axes = (0, None)
    );
    assert_eq!(f(x.view().into_dyn(), 0.5).unwrap(), (&x + 0.5).into_dyn());
}

/// A user module without a batching rule: `vmap!` runs it once per example.
#[module]
struct Affine {
    w: Param<Array2<f32>>,
}

#[module]
impl Affine {
    #[call]
    pub fn forward(&self, x: ArrayView1<'_, f32>) -> Array1<f32> {
        x.dot(&*self.w)
    }
}

#[test]
fn linear_runs_the_whole_batch_as_one_product() {
    let mut rngs = Rngs::new(3);
    let lin = Linear::new(8, 3, &mut rngs);
    let xs = Array3::from_shape_fn((4, 5, 8), |(i, j, k)| {
        (i * 40 + j * 8 + k) as f32 * 0.01 - 0.7
    });
    // Per example, by direct calls: example i is xs[.., i, ..] when mapped on axis 1.
    let loop_over = |axis: usize| -> Vec<ArrayD<f32>> {
        (0..xs.len_of(Axis(axis)))
            .map(|i| {
                lin.forward(xs.index_axis(Axis(axis), i).into_dyn())
                    .unwrap()
            })
            .collect()
    };
    let stacked = |outputs: Vec<ArrayD<f32>>, axis: usize| {
        let views: Vec<_> = outputs.iter().map(|y| y.view()).collect();
        ndarray::stack(Axis(axis), &views).unwrap()
    };
    assert_eq!(vmap!(lin(xs)).unwrap(), stacked(loop_over(0), 0));
    assert_eq!(
        vmap!(lin(xs), in_axes = 1, out_axes = -1).unwrap(),
        stacked(loop_over(1), 2)
    );
    let one = xs.slice(s![0, .., ..]);
    let repeated = vmap!(lin(one), in_axes = None, axis_size = 2).unwrap();
    assert_eq!(
        repeated,
        stacked(vec![lin.forward(one.into_dyn()).unwrap(); 2], 0)
    );
}

#[test]
fn empty_batches_have_their_shape_or_a_clear_error() {
    // A batching rule knows the output's shape without running an example (JAX: [0, 3]).
    let lin = Linear::new(8, 3, &mut Rngs::new(0));
    let empty = Array2::<f32>::zeros((0, 8));
    assert_eq!(vmap!(lin(empty)).unwrap().shape(), [0, 3]);
    assert_eq!(vmap!(lin(empty), out_axes = 1).unwrap().shape(), [3, 0]);
    let wrong = Array2::<f32>::zeros((0, 7));
    assert!(matches!(
        vmap!(lin(wrong)),
        Err(VmapError::Forward(ForwardError::Shape { arg: "x", .. }))
    ));
    // A scalar example must not pass its batch axis off as the feature axis.
    let scalars = Array1::<f32>::zeros(8);
    assert!(matches!(
        vmap!(lin(scalars)),
        Err(VmapError::Forward(ForwardError::Shape { ref found, .. })) if found.is_empty()
    ));

    // Without a rule no example runs, so nothing tells the shape: an error, never [0].
    let affine = Affine {
        w: Param::new(Array2::ones((8, 3))),
    };
    let err = vmap!(affine(empty)).unwrap_err();
    assert_eq!(err, VmapError::EmptyBatch);
    assert!(err.to_string().starts_with("the batch is empty"), "{err}");
    assert_eq!(
        vmap!(affine(Array2::<f32>::ones((1, 8)))).unwrap(),
        array![[8.0, 8.0, 8.0]]
    );
    // Scalar outputs stack into a vector, whose empty shape is known.
    let sums = vmap!(|x: ArrayView1<f32>| x.sum())(empty.view()).unwrap();
    assert_eq!(sums.shape(), [0]);
}

/// Keywords of any type a call can take (`&str`, `Vec`, `String`): `vmap!` passes them
/// broadcast, with no `#[no_vmap]` needed.
#[module]
struct Reducer {
    scale: Param<Array1<f32>>,
}

#[module]
impl Reducer {
    #[call]
    pub fn forward(
        &self,
        x: ArrayViewD<'_, f32>,
        #[kw(default = "sum")] how: &str,
        #[kw(default = Vec::new())] skip: Vec<usize>,
    ) -> Result<ArrayD<f32>, ForwardError> {
        let kept: Vec<f32> = x
            .iter()
            .enumerate()
            .filter(|(i, _)| !skip.contains(i))
            .map(|(_, &v)| v * self.scale[0])
            .collect();
        let total: f32 = kept.iter().sum();
        let value = match how {
            "mean" => total / kept.len() as f32,
            _ => total,
        };
        Ok(ndarray::arr0(value).into_dyn())
    }
}

#[test]
fn reference_and_collection_keywords_are_broadcast() {
    let reducer = Reducer {
        scale: Param::new(Array1::from_elem(1, 2.0)),
    };
    let xs = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let ys = vmap!(
        reducer(xs.view(), how = "mean", skip = vec![0]),
        in_axes = (0, how = None, skip = None)
    )
    .unwrap();
    assert_eq!(ys, array![5.0f32, 11.0].into_dyn());
    assert_eq!(
        call!(reducer(xs.row(0), skip = vec![2])).unwrap(),
        ndarray::arr0(6.0f32).into_dyn()
    );
}
