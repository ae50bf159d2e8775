//! The words of a bitmap, stored in segments allocated on first use (`Bitmap` reads only the words
//! of its mixed chunks).

use super::CHUNK_WORDS;

/// Chunks per segment of words, and words per segment: 4 KiB, so that a VM holds words only near
/// where it writes and sends (with `tidy` giving back what a pass left behind, ten thousand 1 GiB
/// VMs peak at 211 MB, against 576 MB with 32 KiB segments kept), and a 1 TiB VM needs 8192
/// segment pointers.
pub const SEG_CHUNKS: usize = 8;
pub const SEG_WORDS: usize = SEG_CHUNKS * CHUNK_WORDS;

/// The words of a bitmap, in segments allocated on first use; indexed by word number. Only the words
/// of mixed chunks are read, and a mixed chunk's segment exists.
#[derive(Debug, Clone)]
pub struct Words {
    pub(super) segs: Vec<Option<Box<[u64]>>>,
}

impl Words {
    pub(super) fn new(chunks: usize) -> Self {
        Words { segs: vec![None; chunks.div_ceil(SEG_CHUNKS)] }
    }

    /// Allocate chunk `ci`'s segment (zeroed) if it has none.
    #[inline]
    pub(super) fn ensure(&mut self, ci: usize) {
        let s = &mut self.segs[ci / SEG_CHUNKS];
        if s.is_none() {
            *s = Some(vec![0; SEG_WORDS].into_boxed_slice());
        }
    }

    pub(super) fn seg(&self, wi: usize) -> &[u64] {
        self.segs[wi / SEG_WORDS].as_deref().expect("a mixed chunk's segment exists")
    }

    pub(super) fn seg_mut(&mut self, wi: usize) -> &mut [u64] {
        self.segs[wi / SEG_WORDS].as_deref_mut().expect("a mixed chunk's segment exists")
    }

    pub(super) fn allocated(&self) -> usize {
        self.segs.iter().filter(|s| s.is_some()).count() * SEG_WORDS * 8
    }
}

impl std::ops::Index<usize> for Words {
    type Output = u64;
    #[inline]
    fn index(&self, wi: usize) -> &u64 {
        &self.seg(wi)[wi % SEG_WORDS]
    }
}

impl std::ops::IndexMut<usize> for Words {
    #[inline]
    fn index_mut(&mut self, wi: usize) -> &mut u64 {
        &mut self.seg_mut(wi)[wi % SEG_WORDS]
    }
}

/// A chunk's words (ranges never cross a segment: they are one chunk).
impl std::ops::Index<std::ops::Range<usize>> for Words {
    type Output = [u64];
    #[inline]
    fn index(&self, r: std::ops::Range<usize>) -> &[u64] {
        let base = r.start / SEG_WORDS * SEG_WORDS;
        &self.seg(r.start)[r.start - base..r.end - base]
    }
}

impl std::ops::IndexMut<std::ops::Range<usize>> for Words {
    #[inline]
    fn index_mut(&mut self, r: std::ops::Range<usize>) -> &mut [u64] {
        let base = r.start / SEG_WORDS * SEG_WORDS;
        &mut self.seg_mut(r.start)[r.start - base..r.end - base]
    }
}
