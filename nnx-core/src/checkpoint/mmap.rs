//! The file's bytes, memory-mapped: a load copies each tensor straight from the page
//! cache into the module, and never holds a second copy of the whole file.
//!
//! The two `unsafe` calls of the checkpoint code are here.

use std::fs::File;

use memmap2::Mmap;

pub(crate) struct Bytes {
    // `None` for a file too short to map usefully (and `mmap` of 0 bytes fails).
    map: Option<Mmap>,
    small: Vec<u8>,
}

impl Bytes {
    pub fn open(mut file: File, len: u64) -> std::io::Result<Bytes> {
        if len < 8 {
            let mut small = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut small)?;
            return Ok(Bytes { map: None, small });
        }
        // SAFETY: the map is read-only and shared; Rust's aliasing rules only break if
        // another process truncates or rewrites the file while it is mapped (truncation
        // is a SIGBUS, not a wrong value). Every mmap-based loader (safetensors' own,
        // candle, PyTorch's `mmap=True`) accepts that; `Checkpoint`'s docs say it.
        let map = unsafe { Mmap::map(&file)? };
        Ok(Bytes {
            map: Some(map),
            small: Vec::new(),
        })
    }

    pub fn as_slice(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&self.small)
    }

    /// Drops the pages of `start..end` from this process's resident set once a tensor
    /// is copied out, so loading a file as large as the model peaks at the model plus
    /// about one tensor rather than twice the model. The pages stay in the page cache.
    pub fn release(&self, start: usize, end: usize) {
        #[cfg(unix)]
        if let Some(map) = &self.map
            && end > start
        {
            // SAFETY: MADV_DONTNEED on a read-only shared file mapping only unmaps
            // pages; a later read faults them back in from the file with the same bytes
            // (it would zero pages only of a private or anonymous mapping). The result
            // is ignored: it is advice, and a refusal costs memory, not correctness.
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
            };
        }
        #[cfg(not(unix))]
        let _ = (start, end);
    }
}
