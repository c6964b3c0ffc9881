//! Which way an output pass walks its row: the one choice both x86 paths make from the
//! addresses of their buffers alone. Either way every value is the same.

use super::{Out, Stores};

/// Whether an output pass that writes `out` while loading the same positions of
/// `sources` (`x`, `scale`, `bias`; empty ones, absent parameters, are ignored) should
/// walk backwards.
///
/// A load whose address matches, in its low 12 bits, a store still in flight waits for
/// that store (4K aliasing). Walking forwards, the loads of a source that sits a little
/// *below* `out` modulo 4 KiB run into the lines just stored; walking backwards, those
/// of a source a little *above*. So this walks backwards when the nearest such conflict
/// lies ahead, within the distance where it was measured to cost on Zen 4 (both ways
/// cost where nothing aliases: 10-15% at 512x2048 with `scale`/`bias` 400 bytes below
/// `out`):
/// - `scale` and `bias`: under 256 bytes (48-80 bytes below `out`: 1.2-1.5x slower
///   forwards, streamed at 1024x4096 and 64x65536 and cached at 512x1024).
/// - `x`, written with ordinary stores: under 256 bytes as well (64 bytes: 1.05-1.4x
///   at 512x1024, 256x4096 and 1024x512; from 1 KiB on, forwards was as fast or
///   faster).
/// - `x`, written with streaming stores, which stay in flight longer: under 2 KiB.
pub(super) fn walk_backwards(out: *const Out, sources: [&[f32]; 3], stores: Stores) -> bool {
    const PAGE: usize = 4096;
    let x_near = match stores {
        Stores::Cached => 256,
        Stores::Streaming => PAGE / 2,
    };
    let (mut ahead, mut behind) = (PAGE, PAGE);
    for (source, near) in sources.into_iter().zip([x_near, 256, 256]) {
        if source.is_empty() {
            continue;
        }
        let below = (out as usize).wrapping_sub(source.as_ptr() as usize) % PAGE;
        if below != 0 && below < near {
            ahead = ahead.min(below);
        }
        if below != 0 && PAGE - below < near {
            behind = behind.min(PAGE - below);
        }
    }
    ahead < behind
}
