//! Variables: the arrays a module owns, tagged with what they are for.

use std::fmt;
use std::ops::{Deref, DerefMut};

/// What a variable holds; [`State`](crate::State) can be filtered by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VarKind {
    /// Trainable: an optimizer updates it (`nnx.Param`).
    Param,
    /// Non-trainable running statistics (`nnx.BatchStat`).
    BatchStat,
    /// A random stream's seed (`nnx.RngKey`), so that a checkpoint restores randomness.
    RngKey,
    /// How many keys a random stream has handed out (`nnx.RngCount`).
    RngCount,
    /// Decoding state, such as attention's key/value cache (`nnx.Cache`).
    Cache,
}

impl VarKind {
    /// Every kind, in the order [`State`](crate::State) lists them.
    pub const ALL: [VarKind; 5] = [
        VarKind::Param,
        VarKind::BatchStat,
        VarKind::RngKey,
        VarKind::RngCount,
        VarKind::Cache,
    ];

    /// The name it prints as and parses from: `"Param"`, `"BatchStat"`, `"RngKey"`,
    /// `"RngCount"` (Flax's class names).
    pub fn name(self) -> &'static str {
        match self {
            VarKind::Param => "Param",
            VarKind::BatchStat => "BatchStat",
            VarKind::RngKey => "RngKey",
            VarKind::RngCount => "RngCount",
            VarKind::Cache => "Cache",
        }
    }

    /// Whether it is a random stream's state (`RngKey`, `RngCount`).
    pub fn is_rng(self) -> bool {
        matches!(self, VarKind::RngKey | VarKind::RngCount)
    }

    /// Whether it is state of a run rather than of the model (random streams, caches):
    /// a file without it still loads strictly, and PyTorch files leave it out.
    pub fn is_run_state(self) -> bool {
        self.is_rng() || self == VarKind::Cache
    }
}

impl fmt::Display for VarKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a [`VarKind`]'s, kept for the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a variable kind: expected `Param`, `BatchStat`, `RngKey`, `RngCount` or `Cache`"
)]
pub struct ParseVarKindError(pub String);

/// Parses the name it prints as, so a kind written to a file (a checkpoint's metadata,
/// say) reads back: `"BatchStat".parse::<VarKind>()`.
///
/// ```
/// use nnx::VarKind;
///
/// assert_eq!("BatchStat".parse::<VarKind>(), Ok(VarKind::BatchStat));
/// assert_eq!(VarKind::Param.to_string().parse::<VarKind>(), Ok(VarKind::Param));
/// assert!("param".parse::<VarKind>().is_err());
/// ```
impl std::str::FromStr for VarKind {
    type Err = ParseVarKindError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        VarKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| ParseVarKindError(name.to_owned()))
    }
}

macro_rules! variable_type {
    ($(#[$doc:meta])* $name:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name<T> {
            /// The wrapped array.
            pub value: T,
        }

        impl<T> $name<T> {
            /// The kind this variable has in a [`State`](crate::State).
            pub const KIND: VarKind = $kind;

            /// Wraps `value`.
            pub fn new(value: T) -> Self {
                Self { value }
            }

            /// The wrapped value, unwrapped.
            pub fn into_inner(self) -> T {
                self.value
            }
        }

        impl<T> From<T> for $name<T> {
            fn from(value: T) -> Self {
                Self { value }
            }
        }

        impl<T> Deref for $name<T> {
            type Target = T;
            fn deref(&self) -> &T {
                &self.value
            }
        }

        impl<T> DerefMut for $name<T> {
            fn deref_mut(&mut self) -> &mut T {
                &mut self.value
            }
        }

        impl<D: ndarray::Dimension> crate::Node for $name<ndarray::Array<f32, D>> {
            fn walk(&self, path: &mut crate::Path, visitor: &mut dyn crate::Visit) {
                visitor.visit(path, $kind, self.value.view().into_dyn());
            }

            fn walk_mut(&mut self, path: &mut crate::Path, visitor: &mut dyn crate::VisitMut) {
                visitor.visit_mut(path, $kind, self.value.view_mut().into_dyn());
            }
        }
    };
}

variable_type!(
    /// A trainable array, like `nnx.Param`. Derefs to the array; `.value` is public as in NNX.
    Param,
    VarKind::Param
);
variable_type!(
    /// A non-trainable array updated in training mode, like `nnx.BatchStat`.
    BatchStat,
    VarKind::BatchStat
);
variable_type!(
    /// Decoding state, like `nnx.Cache` (attention's cached keys and values).
    Cache,
    VarKind::Cache
);
