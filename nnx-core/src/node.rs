//! The walk over a module tree that every other state operation is built on.

use ndarray::{ArrayViewD, ArrayViewMutD};

use crate::{Path, Segment, VarKind};

/// Receives each variable of a tree, read-only.
pub trait Visit {
    /// Called once per variable, with its path, kind and value.
    fn visit(&mut self, path: &Path, kind: VarKind, value: ArrayViewD<'_, f32>);
}

/// Receives each variable of a tree, writable in place (shapes are fixed).
pub trait VisitMut {
    /// Called once per variable, with its path, kind and writable value.
    fn visit_mut(&mut self, path: &Path, kind: VarKind, value: ArrayViewMutD<'_, f32>);
}

impl<F: FnMut(&Path, VarKind, ArrayViewD<'_, f32>)> Visit for F {
    fn visit(&mut self, path: &Path, kind: VarKind, value: ArrayViewD<'_, f32>) {
        self(path, kind, value)
    }
}

impl<F: FnMut(&Path, VarKind, ArrayViewMutD<'_, f32>)> VisitMut for F {
    fn visit_mut(&mut self, path: &Path, kind: VarKind, value: ArrayViewMutD<'_, f32>) {
        self(path, kind, value)
    }
}

/// Anything that can sit in a field of a `#[module]` struct: a variable
/// ([`Param`](crate::Param), [`BatchStat`](crate::BatchStat)), a module, a [`Mode`](crate::Mode),
/// or a `Vec`, `Option`, `Box` or array of those. `#[module]` implements it for your structs.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not module state",
    label = "this field is neither a variable, a module nor a container of them",
    note = "wrap arrays in `Param<..>` (trainable) or `BatchStat<..>` (running statistics), make the type a `#[module]`, or mark the field `#[module(skip)]` if it is configuration"
)]
pub trait Node {
    /// Calls `visitor` on every variable below `self`, with `path` naming it.
    fn walk(&self, path: &mut Path, visitor: &mut dyn Visit);

    /// Like [`walk`](Node::walk), with writable views.
    fn walk_mut(&mut self, path: &mut Path, visitor: &mut dyn VisitMut);

    /// Sets the train/eval flag of every [`Mode`](crate::Mode) below `self`.
    fn set_training(&mut self, training: bool) {
        let _ = training;
    }
}

impl<T: Node + ?Sized> Node for Box<T> {
    fn walk(&self, path: &mut Path, visitor: &mut dyn Visit) {
        (**self).walk(path, visitor)
    }

    fn walk_mut(&mut self, path: &mut Path, visitor: &mut dyn VisitMut) {
        (**self).walk_mut(path, visitor)
    }

    fn set_training(&mut self, training: bool) {
        (**self).set_training(training)
    }
}

/// `None` has no variables; `Some` adds no path segment, as an optional field in Flax.
impl<T: Node> Node for Option<T> {
    fn walk(&self, path: &mut Path, visitor: &mut dyn Visit) {
        if let Some(inner) = self {
            inner.walk(path, visitor);
        }
    }

    fn walk_mut(&mut self, path: &mut Path, visitor: &mut dyn VisitMut) {
        if let Some(inner) = self {
            inner.walk_mut(path, visitor);
        }
    }

    fn set_training(&mut self, training: bool) {
        if let Some(inner) = self {
            inner.set_training(training);
        }
    }
}

/// Elements are named by their index: `layers.3.bias`.
impl<T: Node> Node for [T] {
    fn walk(&self, path: &mut Path, visitor: &mut dyn Visit) {
        for (i, item) in self.iter().enumerate() {
            path.with(Segment::Index(i), |path| item.walk(path, visitor));
        }
    }

    fn walk_mut(&mut self, path: &mut Path, visitor: &mut dyn VisitMut) {
        for (i, item) in self.iter_mut().enumerate() {
            path.with(Segment::Index(i), |path| item.walk_mut(path, visitor));
        }
    }

    fn set_training(&mut self, training: bool) {
        self.iter_mut().for_each(|item| item.set_training(training));
    }
}

impl<T: Node> Node for Vec<T> {
    fn walk(&self, path: &mut Path, visitor: &mut dyn Visit) {
        self.as_slice().walk(path, visitor)
    }

    fn walk_mut(&mut self, path: &mut Path, visitor: &mut dyn VisitMut) {
        self.as_mut_slice().walk_mut(path, visitor)
    }

    fn set_training(&mut self, training: bool) {
        self.as_mut_slice().set_training(training)
    }
}

impl<T: Node, const N: usize> Node for [T; N] {
    fn walk(&self, path: &mut Path, visitor: &mut dyn Visit) {
        self.as_slice().walk(path, visitor)
    }

    fn walk_mut(&mut self, path: &mut Path, visitor: &mut dyn VisitMut) {
        self.as_mut_slice().walk_mut(path, visitor)
    }

    fn set_training(&mut self, training: bool) {
        self.as_mut_slice().set_training(training)
    }
}
