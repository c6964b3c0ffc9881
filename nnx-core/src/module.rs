//! The `Module` trait: everything `#[module]` gives a struct beyond the walk itself.

use std::collections::HashMap;

use ndarray::{ArrayViewD, ArrayViewMutD};

use crate::{Node, Path, State, StateError, Tree, VarKind};

/// A neural-network module. Derive it with `#[module]` on a struct; the provided methods
/// are NNX's `nnx.state`, `nnx.update`, `.train()`, `.eval()` and `nnx.display`.
pub trait Module: Node {
    /// The struct's name, for displays and error messages.
    const NAME: &'static str;

    /// Copies every variable out, keyed by dotted path, in declaration order.
    fn state(&self) -> State {
        let mut state = State::new();
        self.walk(
            &mut Path::new(),
            &mut |path: &Path, kind: VarKind, value: ArrayViewD<'_, f32>| {
                state.insert(path.to_string(), kind, value.to_owned());
            },
        );
        state
    }

    /// Writes `state` back. For each kind present in `state`, every variable of that kind
    /// must be there (so `model.update(&model.state().params())` round-trips and a partial
    /// copy is caught); unknown paths, shape or kind mismatches are refused. On `Err` the
    /// module is unchanged.
    fn update(&mut self, state: &State) -> Result<(), StateError> {
        check_update(self, state, true)?;
        write_state(self, state);
        Ok(())
    }

    /// Like [`update`](Module::update) but `state` may hold any subset of the variables.
    fn update_partial(&mut self, state: &State) -> Result<(), StateError> {
        check_update(self, state, false)?;
        write_state(self, state);
        Ok(())
    }

    /// The number of trainable scalars.
    fn param_count(&self) -> usize {
        let mut count = 0;
        self.walk(
            &mut Path::new(),
            &mut |_: &Path, kind: VarKind, value: ArrayViewD<'_, f32>| {
                if kind == VarKind::Param {
                    count += value.len();
                }
            },
        );
        count
    }

    /// Training mode for every submodule (dropout active, batch statistics updated).
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Evaluation mode for every submodule.
    fn eval(&mut self) {
        self.set_training(false);
    }

    /// A printable tree of the variables with totals, like `nnx.display`.
    fn tree(&self) -> Tree {
        Tree::new(Self::NAME, self.state())
    }
}

struct Inventory {
    kind: VarKind,
    shape: Vec<usize>,
}

fn inventory<M: Module + ?Sized>(module: &M) -> (Vec<String>, HashMap<String, Inventory>) {
    let mut order = Vec::new();
    let mut vars = HashMap::new();
    module.walk(
        &mut Path::new(),
        &mut |path: &Path, kind: VarKind, value: ArrayViewD<'_, f32>| {
            let path = path.to_string();
            order.push(path.clone());
            let shape = value.shape().to_vec();
            vars.insert(path, Inventory { kind, shape });
        },
    );
    (order, vars)
}

fn check_update<M: Module + ?Sized>(
    module: &M,
    state: &State,
    require_all: bool,
) -> Result<(), StateError> {
    let (order, vars) = inventory(module);
    for (path, var) in state.iter() {
        let Some(have) = vars.get(path) else {
            return Err(StateError::UnknownPath { path: path.into() });
        };
        if have.kind != var.kind {
            return Err(StateError::KindMismatch {
                path: path.into(),
                expected: have.kind,
                found: var.kind,
            });
        }
        if have.shape != var.value.shape() {
            return Err(StateError::ShapeMismatch {
                path: path.into(),
                expected: have.shape.clone(),
                found: var.value.shape().to_vec(),
            });
        }
    }
    if require_all {
        let kinds: Vec<VarKind> = state.kinds().collect();
        let missing = order
            .iter()
            .find(|path| kinds.contains(&vars[*path].kind) && state.get(path).is_none());
        if let Some(path) = missing {
            return Err(StateError::MissingPath {
                path: path.clone(),
                kind: vars[path].kind,
            });
        }
    }
    Ok(())
}

fn write_state<M: Module + ?Sized>(module: &mut M, state: &State) {
    module.walk_mut(&mut Path::new(), &mut |path: &Path,
                                            _: VarKind,
                                            mut value: ArrayViewMutD<
        '_,
        f32,
    >| {
        if let Some(var) = state.get(&path.to_string()) {
            value.assign(&var.value);
        }
    });
}
