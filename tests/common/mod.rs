//! Shared by the integration tests: the Flax oracle vectors and an f64 reference.
#![allow(dead_code)]

pub mod oracle;
pub mod reference;
