//! What a checkpoint is saved from and loaded into: any module, or a [`State`].

use ndarray::{ArrayViewD, ArrayViewMutD};

use crate::{Module, Path, Segment, State, VarKind};

mod sealed {
    pub trait Sealed {}
}

/// A module or a [`State`]: the variables a checkpoint is saved from or loaded into.
/// Implemented for every [`Module`] and for `State`; not meant to be implemented
/// elsewhere.
pub trait Variables: sealed::Sealed {
    /// `(path, kind, shape)` of every variable, in declaration order.
    #[doc(hidden)]
    fn inventory(&self) -> Vec<(String, VarKind, Vec<usize>)>;

    /// Calls `f` with the variable at `path`, if there is one.
    #[doc(hidden)]
    fn read(&self, path: &str, f: &mut dyn FnMut(ArrayViewD<'_, f32>));

    /// Calls `f` with every variable, writable.
    #[doc(hidden)]
    fn write(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, f32>));
}

impl<M: Module + ?Sized> sealed::Sealed for M {}

impl<M: Module + ?Sized> Variables for M {
    fn inventory(&self) -> Vec<(String, VarKind, Vec<usize>)> {
        let mut out = Vec::new();
        self.walk(
            &mut Path::new(),
            &mut |path: &Path, kind: VarKind, value: ArrayViewD<'_, f32>| {
                out.push((path.to_string(), kind, value.shape().to_vec()));
            },
        );
        out
    }

    fn read(&self, target: &str, f: &mut dyn FnMut(ArrayViewD<'_, f32>)) {
        // A save reads one variable at a time, so a walk per variable: it allocates
        // nothing and keeps the save's memory at one tensor beyond the module.
        self.walk(
            &mut Path::new(),
            &mut |path: &Path, _: VarKind, value: ArrayViewD<'_, f32>| {
                if same_path(path, target) {
                    f(value);
                }
            },
        );
    }

    fn write(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, f32>)) {
        self.walk_mut(
            &mut Path::new(),
            &mut |path: &Path, _: VarKind, value: ArrayViewMutD<'_, f32>| {
                f(&path.to_string(), value);
            },
        );
    }
}

impl sealed::Sealed for State {}

impl Variables for State {
    fn inventory(&self) -> Vec<(String, VarKind, Vec<usize>)> {
        self.iter()
            .map(|(path, var)| (path.to_owned(), var.kind, var.value.shape().to_vec()))
            .collect()
    }

    fn read(&self, path: &str, f: &mut dyn FnMut(ArrayViewD<'_, f32>)) {
        if let Some(var) = self.get(path) {
            f(var.value.view());
        }
    }

    fn write(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, f32>)) {
        for (path, var) in self.iter_mut() {
            f(path, var.value.view_mut());
        }
    }
}

/// Whether `path` prints as `text`, without printing it.
fn same_path(path: &Path, text: &str) -> bool {
    let mut rest = text;
    for (i, segment) in path.segments().iter().enumerate() {
        if i > 0 {
            let Some(r) = rest.strip_prefix('.') else {
                return false;
            };
            rest = r;
        }
        let matched = match segment {
            Segment::Field(name) => rest.strip_prefix(name),
            Segment::Index(index) => rest.strip_prefix(index.to_string().as_str()),
        };
        let Some(r) = matched else {
            return false;
        };
        rest = r;
    }
    rest.is_empty()
}
