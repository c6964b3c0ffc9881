//! Axes as users write them: negative counts from the end, as in numpy and JAX.

/// `axis` for an array of `rank` axes, or `None` when it is out of range.
pub(crate) fn resolve_axis(axis: isize, rank: usize) -> Option<usize> {
    let rank = rank as isize;
    let resolved = if axis < 0 { axis + rank } else { axis };
    (0..rank).contains(&resolved).then_some(resolved as usize)
}

#[cfg(test)]
mod tests {
    use super::resolve_axis;

    #[test]
    fn negative_axes_count_from_the_end() {
        assert_eq!(resolve_axis(0, 2), Some(0));
        assert_eq!(resolve_axis(-1, 2), Some(1));
        assert_eq!(resolve_axis(-2, 2), Some(0));
        assert_eq!(resolve_axis(2, 2), None);
        assert_eq!(resolve_axis(-3, 2), None);
        assert_eq!(resolve_axis(0, 0), None);
    }
}
