//! Dotted paths that name a variable inside a module tree (`norm.scale`, `layers.3.bias`).

use std::fmt;

/// One step from a module to one of its children.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A named field of a struct.
    Field(&'static str),
    /// A position inside a `Vec`, an array or a [`Stacked`](crate::Stacked).
    Index(usize),
}

/// The location of a variable in a module tree, printed with dots like Flax's state paths.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Path {
    segments: Vec<Segment>,
}

impl Path {
    /// The empty path: the root module itself.
    pub fn new() -> Self {
        Self::default()
    }

    /// The steps from the root, outermost first.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Appends a step.
    pub fn push(&mut self, segment: Segment) {
        self.segments.push(segment);
    }

    /// Removes the last step, if any.
    pub fn pop(&mut self) {
        self.segments.pop();
    }

    /// Runs `f` with `segment` appended, so a walker cannot forget to pop it.
    pub fn with<R>(&mut self, segment: Segment, f: impl FnOnce(&mut Path) -> R) -> R {
        self.push(segment);
        let result = f(self);
        self.pop();
        result
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Field(name) => f.write_str(name),
            Segment::Index(index) => write!(f, "{index}"),
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{segment}")?;
        }
        Ok(())
    }
}
