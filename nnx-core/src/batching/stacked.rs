//! `Stacked`: an ensemble of modules that `vmap!` maps over with `self = 0`.

use std::ops::{Index, IndexMut};

use ndarray::{ArrayViewD, Axis};

use crate::state::Variable;
use crate::{Module, Node, Path, State, StateError, Tree, Visit, VisitMut};

/// An ensemble: `n` modules of one type that `vmap!(.., in_axes = (self = 0, ..))` maps
/// over, example `i` using member `i` (as `nnx.vmap` over a module with stacked params).
/// Its state names members by index: `0.scale`, `1.scale`, ... (the default: it works
/// for members of any shapes, and a checkpoint of it loads member by member);
/// [`stacked_state`](Stacked::stacked_state) and [`update_stacked`](Stacked::update_stacked)
/// give Flax's layout instead, one array per variable with a leading member axis
/// (`kernel` of shape `[members, in, out]`), as the stacks `nnx.vmap` creates hold.
///
/// ```
/// use nnx::prelude::*;
///
/// let mut rngs = Rngs::new(0);
/// let heads = Stacked::new(3, |_| Linear::new(4, 2, &mut rngs));
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

impl<M: Module> Stacked<M> {
    /// The state in Flax's stacked layout: each member variable once, under its path
    /// within a member (`kernel`), with the members along a new first axis, as the
    /// state of a stack built by `nnx.vmap` over a constructor. An error if the members
    /// differ in a variable's presence or shape (they cannot be stacked).
    ///
    /// ```
    /// use nnx::prelude::*;
    ///
    /// let mut rngs = Rngs::new(0);
    /// let mut heads = Stacked::new(3, |_| Linear::new(4, 2, &mut rngs));
    /// let mut stacked = heads.stacked_state()?;
    /// assert_eq!(stacked.get("kernel").unwrap().value.shape(), [3, 4, 2]);
    /// stacked.get_mut("bias").unwrap().value.fill(1.0);
    /// heads.update_stacked(&stacked)?;                  // member i gets row i
    /// assert!(heads[2].bias.as_ref().unwrap().iter().all(|&b| b == 1.0));
    /// # Ok::<(), nnx::StateError>(())
    /// ```
    pub fn stacked_state(&self) -> Result<State, StateError> {
        let states: Vec<State> = self.members.iter().map(Module::state).collect();
        let mut stacked = State::new();
        for (path, first) in &states[0] {
            let mut views: Vec<ArrayViewD<'_, f32>> = Vec::with_capacity(states.len());
            for (member, state) in states.iter().enumerate() {
                let var = state.get(path).filter(|v| v.kind == first.kind);
                match var {
                    Some(var) if var.value.shape() == first.value.shape() => {
                        views.push(var.value.view())
                    }
                    _ => return Err(member_mismatch(path, member, first, var)),
                }
            }
            let value = ndarray::stack(Axis(0), &views).expect("equal shapes stack");
            stacked.insert(path, first.kind, value);
        }
        // A variable member 0 lacks but another holds cannot be stacked either.
        for (member, state) in states.iter().enumerate().skip(1) {
            if let Some((path, _)) = state.iter().find(|(p, _)| states[0].get(p).is_none()) {
                return Err(StateError::MemberMismatch {
                    path: path.to_owned(),
                    member,
                    detail: format!("member {member} holds it and member 0 does not"),
                });
            }
        }
        Ok(stacked)
    }

    /// Writes a state in the stacked layout (as [`stacked_state`](Stacked::stacked_state)
    /// gives, or as Flax saves a vmapped stack) back, member `i` taking index `i` of each
    /// variable's first axis. All or nothing, with the checks of
    /// [`Module::update`] (every variable of each kind present, shapes and kinds equal)
    /// and a first axis that counts the members.
    pub fn update_stacked(&mut self, stacked: &State) -> Result<(), StateError> {
        let members = self.len();
        let mut state = State::new();
        for (path, var) in stacked {
            if var.value.shape().first() != Some(&members) {
                return Err(StateError::MemberCount {
                    path: path.to_owned(),
                    members,
                    found: var.value.shape().to_vec(),
                });
            }
            for (i, value) in var.value.axis_iter(Axis(0)).enumerate() {
                state.insert(format!("{i}.{path}"), var.kind, value.to_owned());
            }
        }
        self.update(&state)
    }
}

/// Why member `member`'s variable `var` (at `path`) does not stack with member 0's.
fn member_mismatch(
    path: &str,
    member: usize,
    first: &Variable,
    var: Option<&Variable>,
) -> StateError {
    let first = format!("member 0 has shape {:?}", first.value.shape());
    let detail = match var {
        Some(var) => format!("{first}, member {member} {:?}", var.value.shape()),
        None => format!("{first}, member {member} has none of that kind"),
    };
    StateError::MemberMismatch {
        path: path.to_owned(),
        member,
        detail,
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
