//! The readable summary `Module::tree` prints, like `nnx.display`.

use std::borrow::Cow;
use std::fmt;

use crate::{State, VarKind};

/// A module's variables with their totals; `Display` prints a table.
#[derive(Clone, Debug)]
pub struct Tree {
    name: Cow<'static, str>,
    state: State,
}

impl Tree {
    pub(crate) fn new(name: impl Into<Cow<'static, str>>, state: State) -> Self {
        Self {
            name: name.into(),
            state,
        }
    }

    /// The variables the tree lists.
    pub fn state(&self) -> &State {
        &self.state
    }
}

impl fmt::Display for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.name)?;
        for line in self.state.to_string().lines() {
            writeln!(f, "  {line}")?;
        }
        let params = self.state.filter(VarKind::Param).count();
        let stats = self.state.filter(VarKind::BatchStat).count();
        write!(
            f,
            "  total: {params} params ({}), {stats} batch stats ({})",
            bytes(params),
            bytes(stats)
        )
    }
}

fn bytes(scalars: usize) -> String {
    let bytes = scalars * std::mem::size_of::<f32>();
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / (1 << 10) as f64),
        b => format!("{b} B"),
    }
}
