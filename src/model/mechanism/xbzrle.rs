//! QEMU's XBZRLE page cache: which re-sent pages can go as a delta against the copy sent before.

/// QEMU's XBZRLE: a cache entry younger than this many syncs is not evicted (CACHED_PAGE_LIFETIME).
const CACHED_PAGE_LIFETIME: u32 = 2;

/// QEMU's XBZRLE page cache (migration/page_cache.c): direct-mapped, a power-of-two number of slots,
/// slot = page number mod slots; an entry younger than two syncs is not evicted by a colliding page.
#[derive(Debug, Clone)]
pub struct XbzrleCache {
    /// Page held by each slot (`u64::MAX`: empty) and the sync count it was last used at.
    page: Vec<u64>,
    age: Vec<u32>,
    mask: u64,
}

/// What the cache says about one page that is about to be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Cached: send a delta.
    Hit,
    /// Not cached: send the page whole (it was inserted if the slot allowed it).
    Miss,
}

impl XbzrleCache {
    pub fn new(cache_bytes: u64, page_size: u64) -> Self {
        let slots = (cache_bytes / page_size).max(1);
        // QEMU rounds the number of pages down to a power of two.
        let slots = 1u64 << (63 - slots.leading_zeros());
        XbzrleCache { page: vec![u64::MAX; slots as usize], age: vec![0; slots as usize], mask: slots - 1 }
    }

    pub fn slots(&self) -> u64 {
        self.mask + 1
    }

    /// Look `page` up at sync count `age` (save_xbzrle_page: a hit refreshes the entry's age; a miss
    /// inserts the page unless the slot's entry is too young or this is the final copy).
    pub fn lookup(&mut self, page: u64, age: u32, last_stage: bool) -> Lookup {
        let s = (page & self.mask) as usize;
        if self.page[s] == page {
            self.age[s] = age;
            return Lookup::Hit;
        }
        let occupied = self.page[s] != u64::MAX;
        if !last_stage && (!occupied || self.age[s] + CACHED_PAGE_LIFETIME <= age) {
            self.page[s] = page;
            self.age[s] = age;
        }
        Lookup::Miss
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_is_direct_mapped_and_protects_young_entries() {
        let mut c = XbzrleCache::new(4 * 4096 + 100, 4096);
        assert_eq!(c.slots(), 4);
        assert_eq!(c.lookup(1, 3, false), Lookup::Miss); // inserted in slot 1
        assert_eq!(c.lookup(1, 3, false), Lookup::Hit);
        assert_eq!(c.lookup(5, 4, false), Lookup::Miss); // slot 1 taken by an entry of age 3: too young
        assert_eq!(c.lookup(1, 4, false), Lookup::Hit);
        assert_eq!(c.lookup(5, 6, false), Lookup::Miss); // age 4 + 2 <= 6: evicted
        assert_eq!(c.lookup(5, 6, false), Lookup::Hit);
        assert_eq!(c.lookup(1, 9, true), Lookup::Miss); // final copy: no insert
        assert_eq!(c.lookup(5, 9, false), Lookup::Hit);
    }
}
