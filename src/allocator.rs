//! The process's memory allocator: mimalloc, told to give large blocks back to the system at once.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_long};

/// mimalloc rather than the system allocator: ingest makes many small short-lived allocations on
/// several threads, and glibc's per-thread arenas kept freed memory (peak 445 MiB for the largest
/// county's member registry at scale 10, against 304 MiB with a single arena). It is built without
/// transparent huge pages (Cargo feature `no_thp`): with them every touched 2 MiB region was zeroed
/// and resident whole, and the scale-1 member registry peaked at about 430 MiB instead of 335.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_arena_max_object_size` (its position in `mi_option_t` of mimalloc v3,
/// which libmimalloc-sys builds but does not name): blocks above this many KiB are taken from and
/// returned to the system directly instead of from mimalloc's arenas.
const ARENA_MAX_OBJECT_SIZE: c_int = 45;

/// The option's default in mimalloc v3 (2 GiB, in KiB): found there, the position is the right one.
const ARENA_MAX_OBJECT_SIZE_DEFAULT: c_long = 2 * 1024 * 1024;

/// Blocks above 2 MiB bypass the arenas. mimalloc keeps freed arena memory for a second before it
/// returns it to the system, and the few blocks of 2 to 8 MiB that an ingest allocates (about 50
/// for the whole member registry at scale 10) were kept that way: reading it in 1 MiB chunks, its
/// peak was about 240 MiB at scale 1 and 310 MiB at scale 10. Given back at once, the peak is
/// about 180 and 210 MiB, for no measurable time. Below 2 MiB, blocks come and go too often to give
/// back: each return to the system is paid again in page faults.
///
/// mimalloc applies the limit to its pages, not to blocks: blocks of about 84 to 512 KiB share
/// 4 MiB pages, so they too come from the system and go back when their page empties. Ingest keeps
/// its per-chunk arrays below that range (`read::csv::CHUNK_BYTES`). Raising the limit to 4 MiB
/// instead lowered the scale-10 peak to about 180 MiB but tripled the page faults, presumably on
/// arena memory purged and touched again: about 10% more time in single runs.
const LARGE_BLOCK_KIB: c_long = 2 * 1024;

/// Sets the allocator's options; call it first thing in `main`, before any other thread starts.
/// Returns false, changing nothing, when the linked mimalloc is not the version this was written
/// for, or when the option was set already (`MIMALLOC_ARENA_MAX_OBJECT_SIZE` in the environment).
pub fn tune() -> bool {
    // SAFETY: mimalloc's option calls only read and write its table of options; they are not
    // synchronised, which is why this runs before any other thread exists.
    unsafe {
        if libmimalloc_sys::mi_option_get(ARENA_MAX_OBJECT_SIZE) != ARENA_MAX_OBJECT_SIZE_DEFAULT {
            return false;
        }
        libmimalloc_sys::mi_option_set(ARENA_MAX_OBJECT_SIZE, LARGE_BLOCK_KIB);
    }
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_linked_mimalloc_takes_the_large_block_option() {
        assert!(
            super::tune(),
            "mimalloc's option table moved: find mi_option_arena_max_object_size in its mimalloc.h"
        );
    }
}
