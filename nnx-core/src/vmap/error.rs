use crate::ForwardError;

/// What only the data can reveal when vectorizing. Every message names the argument.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VmapError {
    #[error(
        "batch sizes disagree: `{first}` has {first_size} along its mapped axis but `{second}` has {second_size}"
    )]
    BatchSize {
        first: &'static str,
        first_size: usize,
        second: &'static str,
        second_size: usize,
    },
    #[error("in_axes: axis {axis} of `{arg}` is out of range for its rank {rank}")]
    Axis {
        arg: &'static str,
        axis: isize,
        rank: usize,
    },
    #[error(
        "out_axes: axis {axis} is out of range for an output of rank {rank} (batch axis included)"
    )]
    OutAxis { axis: isize, rank: usize },
    #[error(
        "nothing is mapped: every argument is broadcast (None in in_axes) and no `axis_size` was given"
    )]
    NothingMapped,
    #[error("`{arg}`: {message}")]
    Rank { arg: &'static str, message: String },
    #[error("example {index}: {source}")]
    Example {
        index: usize,
        #[source]
        source: Box<VmapError>,
    },
    #[error(transparent)]
    Forward(#[from] ForwardError),
}
