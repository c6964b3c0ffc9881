//! Named, seeded random streams, like `nnx.Rngs(params=0, dropout=1)`.

use indexmap::IndexMap;
use ndarray::Array1;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

use crate::{Node, Path, Segment, VarKind, Visit, VisitMut};

/// The generator handed to initializers: ChaCha8, whose output is fixed by its seed
/// across platforms and crate versions, so a seed always builds the same model.
pub type Key = ChaCha8Rng;

/// One stream: each call to [`next_key`](RngStream::next_key) gives a new, independent generator,
/// as each `rngs.params()` call in NNX gives a new key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RngStream {
    seed: u64,
    count: u64,
}

impl RngStream {
    /// A stream from `seed` that has handed out no key yet.
    pub fn new(seed: u64) -> Self {
        Self { seed, count: 0 }
    }

    /// A new generator, seeded from the stream's seed and its count of keys so far.
    pub fn next_key(&mut self) -> Key {
        let key = Key::seed_from_u64(mix(self.seed, self.count));
        self.count += 1;
        key
    }

    /// How many keys this stream has handed out.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// `n` independent streams, one per example of a vmapped call, all derived from this
    /// stream's next key (its count advances by one), as `nnx.split_rngs(splits=n)`:
    /// stream `i` depends only on this stream's seed, its count and `i`.
    ///
    /// ```
    /// use nnx::RngStream;
    ///
    /// let mut stream = RngStream::new(7);
    /// let streams = stream.split(4);
    /// assert_eq!(stream.count(), 1);
    /// assert_eq!(RngStream::new(7).split(4), streams);     // the same seed, the same split
    /// assert_ne!(streams[0], streams[1]);
    /// ```
    pub fn split(&mut self, n: usize) -> Vec<RngStream> {
        let base = mix(self.seed, self.count) ^ 0xbb67_ae85_84ca_a73b;
        self.count += 1;
        (0..n as u64)
            .map(|i| RngStream::new(mix(base, i)))
            .collect()
    }

    /// A new, independent stream seeded from this one's next key, as `rngs.dropout.fork()`
    /// in NNX: a layer keeps its own stream, so its draws do not depend on what else
    /// draws from the parent later.
    pub fn fork(&mut self) -> RngStream {
        let seed = mix(self.seed, self.count) ^ 0x6a09_e667_f3bc_c908;
        self.count += 1;
        RngStream::new(seed)
    }
}

/// A stream is module state: its seed as the variable `key` (kind
/// [`RngKey`](VarKind::RngKey)) and its count as `count` ([`RngCount`](VarKind::RngCount)),
/// as in Flax, so that `state()`, `update()` and checkpoints carry randomness too. Each is
/// a `u64` held exactly as four 16-bit limbs (least significant first) in an `f32` array
/// of shape `[4]`; a written limb is rounded and clamped to `0..=65535`.
impl Node for RngStream {
    fn walk(&self, path: &mut Path, visitor: &mut dyn Visit) {
        for (name, kind, value) in [
            ("key", VarKind::RngKey, self.seed),
            ("count", VarKind::RngCount, self.count),
        ] {
            let limbs = to_limbs(value);
            path.with(Segment::Field(name), |path| {
                visitor.visit(path, kind, limbs.view().into_dyn())
            });
        }
    }

    fn walk_mut(&mut self, path: &mut Path, visitor: &mut dyn VisitMut) {
        for (name, kind, value) in [
            ("key", VarKind::RngKey, &mut self.seed),
            ("count", VarKind::RngCount, &mut self.count),
        ] {
            let mut limbs = to_limbs(*value);
            path.with(Segment::Field(name), |path| {
                visitor.visit_mut(path, kind, limbs.view_mut().into_dyn())
            });
            *value = from_limbs(&limbs);
        }
    }
}

/// `value` as four 16-bit limbs, least significant first: exact in `f32`.
fn to_limbs(value: u64) -> Array1<f32> {
    Array1::from_iter((0..4).map(|i| ((value >> (16 * i)) & 0xffff) as f32))
}

/// The `u64` of four limbs; a limb that is not an integer in `0..=65535` is rounded and
/// clamped (`as` saturates, NaN gives 0).
fn from_limbs(limbs: &Array1<f32>) -> u64 {
    limbs.iter().enumerate().fold(0, |value, (i, &limb)| {
        value | (u64::from(limb.round() as u16) << (16 * i))
    })
}

/// Streams by name. A stream that was not seeded explicitly derives its seed from the
/// default seed and its name, so `Rngs::new(0)` serves `params`, `dropout` or any other.
///
/// ```
/// use nnx::prelude::*;
/// use nnx::rand_core::Rng;                       // the traits a Key implements
/// use nnx::rand_distr::{Bernoulli, Distribution};
///
/// let mut rngs = Rngs::new(0).with_stream("dropout", 7);
/// let a = Linear::new(3, 2, &mut rngs);            // draws from the `params` stream
/// let b = Linear::new(3, 2, &mut Rngs::new(0));
/// assert_eq!(a, b);                                // the same seed builds the same model
///
/// // A random layer of your own: a new key per call, as `rngs.dropout()` in Flax.
/// let mut key = rngs.dropout();
/// let keep: Vec<bool> = (0..8).map(|_| Bernoulli::new(0.9).unwrap().sample(&mut key)).collect();
/// assert_eq!(keep.len(), 8);
/// let _raw = key.next_u64();
/// ```
#[derive(Clone, Debug)]
pub struct Rngs {
    default_seed: u64,
    streams: IndexMap<String, RngStream>,
}

impl Rngs {
    /// Streams whose seeds derive from `seed` and their names, unless set with
    /// [`with_stream`](Rngs::with_stream).
    pub fn new(seed: u64) -> Self {
        Self {
            default_seed: seed,
            streams: IndexMap::new(),
        }
    }

    /// Seeds one stream explicitly: `Rngs::new(0).with_stream("dropout", 1)`.
    pub fn with_stream(mut self, name: &str, seed: u64) -> Self {
        self.streams.insert(name.to_owned(), RngStream::new(seed));
        self
    }

    /// The stream `name`, created on first use with a seed from the default seed and `name`.
    pub fn stream(&mut self, name: &str) -> &mut RngStream {
        let default_seed = self.default_seed;
        self.streams
            .entry(name.to_owned())
            .or_insert_with(|| RngStream::new(mix(default_seed, fnv1a(name))))
    }

    /// A new key from the `params` stream.
    pub fn params(&mut self) -> Key {
        self.stream("params").next_key()
    }

    /// A new key from the `dropout` stream.
    pub fn dropout(&mut self) -> Key {
        self.stream("dropout").next_key()
    }
}

/// SplitMix64's finaliser: nearby (seed, counter) pairs give unrelated seeds.
fn mix(seed: u64, salt: u64) -> u64 {
    let mut z = seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash that never changes between Rust releases (unlike `DefaultHasher`).
fn fnv1a(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::Rng;

    #[test]
    fn same_seed_same_numbers_and_streams_differ() {
        let mut a = Rngs::new(7);
        let mut b = Rngs::new(7);
        assert_eq!(a.params().next_u64(), b.params().next_u64());
        assert_ne!(a.params().next_u64(), a.params().next_u64());
        assert_ne!(
            Rngs::new(7).params().next_u64(),
            Rngs::new(7).dropout().next_u64()
        );
        assert_ne!(
            Rngs::new(7).params().next_u64(),
            Rngs::new(8).params().next_u64()
        );
    }
}
