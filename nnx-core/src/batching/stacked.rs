//! `Stacked`: an ensemble of modules that `vmap!` maps over with `self = 0`.

use std::ops::{Index, IndexMut};

use crate::{Module, Node, Path, Tree, Visit, VisitMut};

/// An ensemble: `n` modules of one type that `vmap!(.., in_axes = (self = 0, ..))` maps
/// over, example `i` using member `i` (as `nnx.vmap` over a module with stacked params).
/// Its state names members by index: `0.scale`, `1.scale`, ...
///
/// ```
/// use nnx::prelude::*;
///
/// let mut rngs = Rngs::new(0);
/// let mut heads = Stacked::new(3, |_| Linear::new(4, 2, &mut rngs));
/// assert!(heads.state().get("2.kernel").is_some());
///
/// let xs = Array2::<f32>::ones((3, 4));                 // example i goes to head i
/// let ys = vmap!(heads(xs), in_axes = (0, self = 0))?;
/// assert_eq!(ys.shape(), [3, 2]);
/// assert_eq!(ys.index_axis(Axis(0), 1), call!((heads[1])(xs.row(1)))?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Stacked<M> {
    members: Vec<M>,
}

impl<M> Stacked<M> {
    /// Builds member `i` with `build(i)`, as `nnx.vmap(create_model)` over seeds.
    ///
    /// # Panics
    /// If `n` is zero: a vmap over an empty ensemble has no member to type-check against.
    pub fn new(n: usize, build: impl FnMut(usize) -> M) -> Self {
        assert!(n > 0, "Stacked::new: an ensemble needs at least one member");
        Self {
            members: (0..n).map(build).collect(),
        }
    }

    /// `None` for an empty vector.
    pub fn from_vec(members: Vec<M>) -> Option<Self> {
        (!members.is_empty()).then_some(Self { members })
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Always `false`: a `Stacked` has at least one member.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The members, in order.
    pub fn members(&self) -> &[M] {
        &self.members
    }

    /// The members, writable (their number is fixed).
    pub fn members_mut(&mut self) -> &mut [M] {
        &mut self.members
    }

    /// The members, in order, as a `Vec`.
    pub fn into_vec(self) -> Vec<M> {
        self.members
    }
}

impl<M> Index<usize> for Stacked<M> {
    type Output = M;

    fn index(&self, index: usize) -> &M {
        &self.members[index]
    }
}

impl<M> IndexMut<usize> for Stacked<M> {
    fn index_mut(&mut self, index: usize) -> &mut M {
        &mut self.members[index]
    }
}

impl<M: Node> Node for Stacked<M> {
    fn walk(&self, path: &mut Path, visitor: &mut dyn Visit) {
        self.members.walk(path, visitor)
    }

    fn walk_mut(&mut self, path: &mut Path, visitor: &mut dyn VisitMut) {
        self.members.walk_mut(path, visitor)
    }

    fn set_training(&mut self, training: bool) {
        self.members.set_training(training);
    }
}

impl<M: Module> Module for Stacked<M> {
    const NAME: &'static str = "Stacked";

    /// Headed `Stacked<Block> (4 members)`: the member type, not only "Stacked".
    fn tree(&self) -> Tree {
        let n = self.len();
        let members = if n == 1 { "member" } else { "members" };
        let name = format!("Stacked<{}> ({n} {members})", M::NAME);
        Tree::new(name, self.state())
    }
}
