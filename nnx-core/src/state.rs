//! Functional state: the module's variables as an ordered map from path to array,
//! in the spirit of `nnx.split` / `nnx.state`.

use std::fmt;

use indexmap::IndexMap;
use ndarray::ArrayD;

use crate::VarKind;

/// One variable taken out of a module.
#[derive(Clone, Debug, PartialEq)]
pub struct Variable {
    /// What it is for: `Param` or `BatchStat`.
    pub kind: VarKind,
    /// A copy of its array, at any rank.
    pub value: ArrayD<f32>,
}

/// Variables keyed by dotted path, in declaration order (the order `walk` visits them).
///
/// ```
/// use nnx::prelude::*;
///
/// let mut rngs = Rngs::new(0);
/// let mut lin = Linear::new(3, 2, &mut rngs);
/// let mut state = lin.state();                      // a copy, as nnx.state(model)
/// assert_eq!(state.paths().collect::<Vec<_>>(), ["kernel", "bias"]);
///
/// state.get_mut("bias").expect("Linear has a bias").value.fill(1.0);
/// lin.update(&state)?;                              // all or nothing
/// assert!(lin.bias.as_ref().unwrap().iter().all(|&b| b == 1.0));
///
/// let (params, batch_stats) = state.split();        // as nnx.split(model, Param, ...)
/// assert_eq!((params.len(), batch_stats.len()), (2, 0));
/// # Ok::<(), nnx::StateError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct State {
    entries: IndexMap<String, Variable>,
}

impl State {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a variable at `path`; one already there is replaced, keeping its position.
    pub fn insert(&mut self, path: impl Into<String>, kind: VarKind, value: ArrayD<f32>) {
        self.entries.insert(path.into(), Variable { kind, value });
    }

    /// The variable at `path`, if any.
    pub fn get(&self, path: &str) -> Option<&Variable> {
        self.entries.get(path)
    }

    /// The variable at `path`, writable, if any.
    pub fn get_mut(&mut self, path: &str) -> Option<&mut Variable> {
        self.entries.get_mut(path)
    }

    /// The number of variables (see [`count`](State::count) for scalars).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no variable.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `(path, variable)` pairs, in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.entries.iter())
    }

    /// The `(path, variable)` pairs with writable variables, in order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&str, &mut Variable)> {
        self.entries
            .iter_mut()
            .map(|(path, var)| (path.as_str(), var))
    }

    /// The paths, in order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The variables of one kind, like `nnx.state(model, nnx.Param)`.
    pub fn filter(&self, kind: VarKind) -> State {
        let entries = self
            .entries
            .iter()
            .filter(|(_, var)| var.kind == kind)
            .map(|(path, var)| (path.clone(), var.clone()))
            .collect();
        State { entries }
    }

    /// The `Param`s, like `nnx.state(model, nnx.Param)`.
    pub fn params(&self) -> State {
        self.filter(VarKind::Param)
    }

    /// The `BatchStat`s, like `nnx.state(model, nnx.BatchStat)`.
    pub fn batch_stats(&self) -> State {
        self.filter(VarKind::BatchStat)
    }

    /// The random streams' state (`RngKey`s and `RngCount`s), like
    /// `nnx.state(model, nnx.RngState)`.
    pub fn rng_state(&self) -> State {
        self.filter(VarKind::RngKey)
            .merge(self.filter(VarKind::RngCount))
    }

    /// `(params, batch_stats)`, like `nnx.split(model, nnx.Param, nnx.BatchStat)`'s
    /// states (the random streams' state is [`State::rng_state`]); [`State::merge`] puts
    /// them back together.
    pub fn split(&self) -> (State, State) {
        (self.params(), self.batch_stats())
    }

    /// `self` with `other`'s variables added, like `nnx.merge_state`: a path present in
    /// both takes `other`'s variable (in `self`'s position), new paths come last.
    pub fn merge(mut self, other: State) -> State {
        self.extend(other);
        self
    }

    /// The number of scalars held, over all variables.
    pub fn count(&self) -> usize {
        self.entries.values().map(|var| var.value.len()).sum()
    }

    pub(crate) fn kinds(&self) -> impl Iterator<Item = VarKind> + '_ {
        self.entries.values().map(|var| var.kind)
    }
}

/// The variables of a [`State`] by reference, in order: `(path, variable)`.
pub struct Iter<'a>(indexmap::map::Iter<'a, String, Variable>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, &'a Variable);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(path, var)| (path.as_str(), var))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// The variables of a [`State`] by value, in order: `(path, variable)`.
pub struct IntoIter(indexmap::map::IntoIter<String, Variable>);

impl Iterator for IntoIter {
    type Item = (String, Variable);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for IntoIter {}

/// The same items as [`State::iter`].
impl<'a> IntoIterator for &'a State {
    type Item = (&'a str, &'a Variable);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        Iter(self.entries.iter())
    }
}

impl IntoIterator for State {
    type Item = (String, Variable);
    type IntoIter = IntoIter;

    fn into_iter(self) -> IntoIter {
        IntoIter(self.entries.into_iter())
    }
}

/// A path already present keeps its position and takes the new variable.
impl Extend<(String, Variable)> for State {
    fn extend<I: IntoIterator<Item = (String, Variable)>>(&mut self, items: I) {
        self.entries.extend(items);
    }
}

impl FromIterator<(String, Variable)> for State {
    fn from_iter<I: IntoIterator<Item = (String, Variable)>>(items: I) -> Self {
        State {
            entries: items.into_iter().collect(),
        }
    }
}

/// Prints one line per variable: path, kind, shape and element count.
impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.paths().map(str::len).max().unwrap_or(0);
        for (path, var) in self.iter() {
            let shape = format!("{:?}", var.value.shape());
            writeln!(
                f,
                "{path:<width$}  {kind:<9}  {shape:<14} {count:>10}",
                kind = var.kind.to_string(),
                count = var.value.len(),
            )?;
        }
        Ok(())
    }
}
