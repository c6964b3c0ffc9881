//! The batch size check, and what batching rules learn about the batch (`out_axes`).

use super::VmapError;

/// The name `BatchSize` records for `axis_size = n`.
pub(crate) const AXIS_SIZE: &str = "(axis_size)";

/// Agrees the batch size over all mapped arguments (and `axis_size`, and a stacked
/// module), naming the first two that disagree.
#[derive(Debug)]
pub struct BatchSize {
    found: Option<(&'static str, usize)>,
}

impl BatchSize {
    /// Starts from `axis_size`, when the call gave one.
    pub fn new(axis_size: Option<usize>) -> Self {
        Self {
            // Not an identifier, so no argument can be taken for it.
            found: axis_size.map(|size| (AXIS_SIZE, size)),
        }
    }

    /// Records `arg`'s batch size (`None`: broadcast, so no size); `Err` if it differs
    /// from the size recorded first.
    pub fn add(&mut self, arg: &'static str, size: Option<usize>) -> Result<(), VmapError> {
        match (self.found, size) {
            (_, None) => Ok(()),
            (None, Some(size)) => {
                self.found = Some((arg, size));
                Ok(())
            }
            (Some((first, first_size)), Some(size)) if first_size != size => {
                Err(VmapError::BatchSize {
                    first,
                    first_size,
                    second: arg,
                    second_size: size,
                })
            }
            (Some(_), Some(_)) => Ok(()),
        }
    }

    /// The agreed batch size, or `NothingMapped` if nothing gave one.
    pub fn finish(self) -> Result<usize, VmapError> {
        self.found
            .map(|(_, size)| size)
            .ok_or(VmapError::NothingMapped)
    }
}

/// What a batching rule learns about the batch besides its arguments.
#[derive(Debug, Clone, Copy)]
pub struct Batch<Axes> {
    /// The number of examples.
    pub size: usize,
    /// Where the batch axis goes in each output, as `out_axes` gave it (negative counts
    /// from the end).
    pub out_axes: Axes,
}

/// `out_axes` when the user gave none: batch axis first in every output.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultAxes;

/// Turns what `out_axes = ..` said into the output's axes type.
#[diagnostic::on_unimplemented(
    message = "out_axes does not fit the method's output `{A}`",
    note = "give one axis for an array output and a tuple of axes for a tuple output"
)]
pub trait IntoAxes<A> {
    /// The axes, in the output's axes type.
    fn into_axes(self) -> A;
}

impl<A: Default> IntoAxes<A> for DefaultAxes {
    fn into_axes(self) -> A {
        A::default()
    }
}

impl IntoAxes<isize> for isize {
    fn into_axes(self) -> isize {
        self
    }
}

impl IntoAxes<(isize, isize)> for (isize, isize) {
    fn into_axes(self) -> (isize, isize) {
        self
    }
}

/// One axis for a pair of outputs applies to both, as in JAX.
impl IntoAxes<(isize, isize)> for isize {
    fn into_axes(self) -> (isize, isize) {
        (self, self)
    }
}
