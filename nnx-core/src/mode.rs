//! The train/eval flag that [`Module::train`](crate::Module::train) and
//! [`Module::eval`](crate::Module::eval) flip in every submodule.

use crate::{Node, Path, Visit, VisitMut};

/// Put a `Mode` field in a module whose forward pass differs between training and
/// evaluation (dropout, batch norm): `train()`/`eval()` on any enclosing module set it,
/// as NNX's `.train()` sets `deterministic` and `use_running_average`.
/// A new `Mode` is in training, as NNX modules are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    training: bool,
}

impl Mode {
    /// Training mode, as after `.train()`.
    pub fn training() -> Self {
        Self { training: true }
    }

    /// Evaluation mode, as after `.eval()`.
    pub fn evaluation() -> Self {
        Self { training: false }
    }

    /// Whether this is training mode rather than evaluation.
    pub fn is_training(self) -> bool {
        self.training
    }
}

impl Default for Mode {
    fn default() -> Self {
        Self::training()
    }
}

impl Node for Mode {
    fn walk(&self, _: &mut Path, _: &mut dyn Visit) {}

    fn walk_mut(&mut self, _: &mut Path, _: &mut dyn VisitMut) {}

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}
