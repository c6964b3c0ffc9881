//! `#[module]` on user structs, as a user crate sees it: state paths, update, counts,
//! display, train/eval, containers and generics.

use ndarray::{Array1, Array2, ArrayD, ArrayViewD, IxDyn, array};
use nnx::prelude::*;
use nnx::{ForwardError, StateError};

#[module]
struct Block {
    norm: LayerNorm,
    proj: Linear,
    gate: Param<Array1<f32>>,
    count: BatchStat<Array1<f32>>,
    #[module(skip)]
    name: String,
}

fn block() -> Block {
    let mut rngs = Rngs::new(0);
    Block {
        norm: LayerNorm::new(4),
        proj: Linear::new(4, 3, &mut rngs),
        gate: Param::new(Array1::ones(3)),
        count: BatchStat::new(Array1::zeros(2)),
        name: "block".into(),
    }
}

#[test]
fn state_paths_kinds_and_shapes_follow_declaration_order() {
    let block = block();
    let state = block.state();
    let listed: Vec<(&str, VarKind, Vec<usize>)> = state
        .iter()
        .map(|(path, var)| (path, var.kind, var.value.shape().to_vec()))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("norm.scale", VarKind::Param, vec![4]),
            ("norm.bias", VarKind::Param, vec![4]),
            ("proj.kernel", VarKind::Param, vec![4, 3]),
            ("proj.bias", VarKind::Param, vec![3]),
            ("gate", VarKind::Param, vec![3]),
            ("count", VarKind::BatchStat, vec![2]),
        ]
    );
    assert_eq!(block.param_count(), 4 + 4 + 12 + 3 + 3);
    assert_eq!(state.params().len(), 5);
    assert_eq!(state.batch_stats().paths().collect::<Vec<_>>(), ["count"]);
    assert_eq!(block.name, "block");
}

#[test]
fn update_writes_back_and_round_trips() {
    let mut block = block();
    let mut state = block.state();
    state.get_mut("gate").unwrap().value = ArrayD::from_elem(IxDyn(&[3]), 2.5);
    state.get_mut("count").unwrap().value.fill(7.0);
    block.update(&state).unwrap();
    assert_eq!(block.gate.value, array![2.5, 2.5, 2.5]);
    assert_eq!(block.count.value, array![7.0, 7.0]);
    assert_eq!(block.state(), state);
    // A params-only state holds every param: accepted, batch stats untouched.
    let mut params = state.params();
    params.get_mut("gate").unwrap().value.fill(-1.0);
    block.count.value.fill(3.0);
    block.update(&params).unwrap();
    assert_eq!(block.gate.value, array![-1.0, -1.0, -1.0]);
    assert_eq!(block.count.value, array![3.0, 3.0]);
}

#[test]
fn update_refuses_bad_states_and_changes_nothing() {
    let mut block = block();
    let before = block.state();

    let mut unknown = before.clone();
    unknown.insert("norm.scal", VarKind::Param, ArrayD::zeros(IxDyn(&[4])));
    assert_eq!(
        block.update(&unknown),
        Err(StateError::UnknownPath {
            path: "norm.scal".into()
        })
    );

    let mut wrong_shape = before.clone();
    wrong_shape.get_mut("gate").unwrap().value = ArrayD::zeros(IxDyn(&[4]));
    let err = block.update(&wrong_shape).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`gate` has shape [4] in the state but [3] in the module"
    );

    let mut missing = before.params();
    missing = {
        let mut partial = State::new();
        for (path, var) in missing.iter().filter(|(path, _)| *path != "proj.bias") {
            partial.insert(path, var.kind, var.value.clone());
        }
        partial
    };
    assert_eq!(
        block.update(&missing),
        Err(StateError::MissingPath {
            path: "proj.bias".into(),
            kind: VarKind::Param
        })
    );
    // The same subset is fine when it is meant to be partial.
    block.update_partial(&missing).unwrap();

    let mut wrong_kind = State::new();
    wrong_kind.insert("count", VarKind::Param, ArrayD::zeros(IxDyn(&[2])));
    assert!(matches!(
        block.update_partial(&wrong_kind),
        Err(StateError::KindMismatch { .. })
    ));
    assert_eq!(block.state(), before);
}

#[test]
fn split_states_merge_back_and_update() {
    let mut model = block();
    let (mut params, batch_stats) = model.state().split();
    assert_eq!(params.len() + batch_stats.len(), model.state().len());
    assert!(params.iter().all(|(_, var)| var.kind == VarKind::Param));
    // A functional step on the params alone, then the whole state back in one update.
    for (_, var) in params.iter_mut() {
        var.value.mapv_inplace(|v| v * 2.0);
    }
    let merged = params.clone().merge(batch_stats.clone());
    let paths: Vec<&str> = merged.paths().collect();
    let before = model.state();
    assert_eq!(paths.len(), before.len());
    model.update(&merged).unwrap();
    for (path, var) in &model.state() {
        let old = &before.get(path).unwrap().value;
        let factor = if var.kind == VarKind::Param { 2.0 } else { 1.0 };
        assert_eq!(var.value, old * factor, "{path}");
    }
    // Merging a path already present replaces its variable in place.
    let mut override_gate = State::new();
    override_gate.insert("gate", VarKind::Param, ArrayD::zeros(IxDyn(&[3])));
    let replaced = merged.merge(override_gate);
    assert_eq!(replaced.len(), before.len());
    assert_eq!(
        replaced.get("gate").unwrap().value,
        // The element type is spelled out: serde_json (a dependency of the checkpoint
        // code) adds `f32: PartialEq<serde_json::Value>`, so inference has two choices.
        ArrayD::<f32>::zeros(IxDyn(&[3]))
    );
    // Owned iteration and collecting give the same state back.
    let rebuilt: State = replaced.clone().into_iter().collect();
    assert_eq!(rebuilt, replaced);
}

#[test]
fn tree_lists_every_variable_with_totals() {
    let text = block().tree().to_string();
    assert!(text.starts_with("Block\n"), "{text}");
    assert!(text.contains("proj.kernel  Param"), "{text}");
    assert!(text.contains("[4, 3]"), "{text}");
    assert!(
        text.ends_with("total: 26 params (104 B), 2 batch stats (8 B)"),
        "{text}"
    );
    let ensemble = Stacked::new(3, |_| block());
    let text = ensemble.tree().to_string();
    assert!(text.starts_with("Stacked<Block> (3 members)\n"), "{text}");
    assert!(text.contains("2.proj.kernel  Param"), "{text}");
    assert!(
        text.ends_with("total: 78 params (312 B), 6 batch stats (24 B)"),
        "{text}"
    );
}

/// A module whose forward differs in training: it updates a running mean.
#[module]
struct RunningMean {
    mean: BatchStat<Array1<f32>>,
    mode: Mode,
}

#[module]
impl RunningMean {
    pub fn observe(&mut self, x: ArrayViewD<'_, f32>) -> ArrayD<f32> {
        if self.mode.is_training() {
            let x = x.to_shape(self.mean.len()).unwrap();
            self.mean.value = &self.mean.value * 0.5 + &x * 0.5;
        }
        self.mean.value.clone().into_dyn()
    }
}

#[module]
struct Stack {
    layers: Vec<Linear>,
    extra: Option<RunningMean>,
    pair: [RunningMean; 2],
}

#[test]
fn containers_are_walked_with_indices_and_train_eval_reach_every_mode() {
    let mut rngs = Rngs::new(1);
    let running = || RunningMean {
        mean: BatchStat::new(Array1::zeros(2)),
        mode: Mode::default(),
    };
    let mut stack = Stack {
        layers: vec![
            Linear::new(2, 2, &mut rngs),
            Linear::with_bias(2, 1, false, &mut rngs),
        ],
        extra: Some(running()),
        pair: [running(), running()],
    };
    let paths: Vec<String> = stack.state().paths().map(String::from).collect();
    assert_eq!(
        paths,
        [
            "layers.0.kernel",
            "layers.0.bias",
            "layers.1.kernel",
            "extra.mean",
            "pair.0.mean",
            "pair.1.mean"
        ]
    );
    stack.eval();
    assert!(!stack.pair[1].mode.is_training());
    assert!(!stack.extra.as_ref().unwrap().mode.is_training());
    let x = array![2.0f32, 4.0];
    assert_eq!(
        call!(stack.pair[0].observe(x.view().into_dyn())),
        array![0.0, 0.0].into_dyn()
    );
    stack.train();
    assert_eq!(
        call!(stack.pair[0].observe(x.view().into_dyn())),
        array![1.0, 2.0].into_dyn()
    );
}

/// Generic modules: `Mlp<A>` is a module when its fields are.
trait Activation: Default {
    fn apply(&self, x: f32) -> f32;
}

#[derive(Default)]
struct Relu;

impl Activation for Relu {
    fn apply(&self, x: f32) -> f32 {
        x.max(0.0)
    }
}

#[module]
struct Mlp<A: Activation> {
    hidden: Linear,
    out: Linear,
    #[module(skip)]
    activation: A,
}

#[module]
impl<A: Activation> Mlp<A> {
    #[call]
    pub fn forward(&self, x: ArrayViewD<'_, f32>) -> Result<ArrayD<f32>, ForwardError> {
        let h = call!((self.hidden)(x))?.mapv(|v| self.activation.apply(v));
        call!((self.out)(&h))
    }
}

#[test]
fn generic_modules_walk_and_call() {
    let mut rngs = Rngs::new(2);
    let mlp: Mlp<Relu> = Mlp {
        hidden: Linear::new(3, 8, &mut rngs),
        out: Linear::new(8, 1, &mut rngs),
        activation: Relu,
    };
    assert_eq!(mlp.param_count(), 3 * 8 + 8 + 8 + 1);
    let y = call!(mlp(&array![[1.0f32, -2.0, 0.5]])).unwrap();
    assert_eq!(y.shape(), [1, 1]);
    assert_eq!(<Mlp<Relu> as Module>::NAME, "Mlp");
}

#[test]
fn linear_takes_flax_style_initializers() {
    use nnx::init;
    let mut rngs = Rngs::new(7);
    let ones = Linear::with_init(3, 2, &init::ones(), Some(&init::uniform(0.5)), &mut rngs);
    assert_eq!(ones.kernel.value, Array2::<f32>::ones((3, 2)));
    let bias = &ones.bias.as_ref().expect("a bias was asked for").value;
    assert!(bias.iter().all(|&b| (0.0..0.5).contains(&b)), "{bias}");
    assert_ne!(bias[0], bias[1]);
    let y = call!(ones(&array![1.0f32, 2.0, 3.0])).unwrap();
    assert_eq!(y, (array![6.0f32, 6.0] + bias).into_dyn());
    let no_bias = Linear::with_init(3, 2, &init::zeros(), None, &mut rngs);
    assert!(no_bias.bias.is_none());
    // The default constructor is `with_init(lecun_normal, zeros)`.
    let a = Linear::new(5, 4, &mut Rngs::new(3));
    let b = Linear::with_init(
        5,
        4,
        &init::lecun_normal(),
        Some(&init::zeros()),
        &mut Rngs::new(3),
    );
    assert_eq!(a, b);
}

#[test]
fn rngs_make_models_reproducible() {
    let a = Linear::new(5, 4, &mut Rngs::new(42));
    let b = Linear::new(5, 4, &mut Rngs::new(42));
    let c = Linear::new(5, 4, &mut Rngs::new(43));
    assert_eq!(a, b);
    assert_ne!(a.kernel.value, c.kernel.value);
}

/// Two `#[module] impl` blocks for two instantiations of one generic module: their
/// generated builders must not collide.
#[derive(Default)]
struct Doubling;
#[derive(Default)]
struct Negating;

#[module]
struct Tagged<T> {
    #[module(skip)]
    tag: T,
}

#[module]
impl Tagged<Doubling> {
    #[call]
    pub fn forward(&self, x: ArrayViewD<'_, f32>) -> ArrayD<f32> {
        &x * 2.0
    }
}

#[module]
impl Tagged<Negating> {
    #[call]
    pub fn forward(&self, x: ArrayViewD<'_, f32>) -> ArrayD<f32> {
        -&x
    }
}

#[test]
fn impls_for_two_instantiations_coexist() {
    let x = array![1.0f32, -3.0];
    let double = Tagged { tag: Doubling };
    let negate = Tagged { tag: Negating };
    assert_eq!(call!(double(x.view())), array![2.0f32, -6.0].into_dyn());
    assert_eq!(
        vmap!(negate(x.view().insert_axis(nnx::ndarray::Axis(0)))).unwrap(),
        array![[-1.0f32, 3.0]].into_dyn()
    );
    let _ = (&double.tag, &negate.tag);
}

/// Raw identifiers are named without their `r#` in paths, signatures and messages.
#[module]
struct Keywordy {
    r#type: Param<Array1<f32>>,
}

#[module]
impl Keywordy {
    pub fn r#in(&self, x: ArrayViewD<'_, f32>, #[kw(default = 1.0)] r#as: f32) -> ArrayD<f32> {
        (&x + &self.r#type.value) * r#as
    }
}

#[test]
fn raw_identifiers_lose_their_prefix() {
    let mut m = Keywordy {
        r#type: Param::new(array![1.0f32, 2.0]),
    };
    let paths: Vec<String> = m.state().iter().map(|(path, _)| path.to_string()).collect();
    assert_eq!(paths, ["type"]);
    let mut state = State::new();
    state.insert("type", VarKind::Param, ArrayD::zeros(IxDyn(&[2])));
    m.update(&state).unwrap();
    assert_eq!(m.r#type.value, array![0.0f32, 0.0]);
    let sig = Keywordy::signature("in").expect("recorded under its plain name");
    assert_eq!(
        sig.to_string(),
        "Keywordy::in(&self, x: ArrayViewD<'_, f32>, *, as: f32 = 1.0) -> ArrayD<f32>"
    );
    let y = call!(m.r#in(array![1.0f32, 1.0].view().into_dyn(), r#as = 2.0));
    assert_eq!(y, array![2.0f32, 2.0].into_dyn());
}
