use super::*;
use proptest::prelude::*;

/// A bitmap as plain booleans, to check the chunked one against.
fn model(b: &Bitmap) -> Vec<bool> {
    (0..b.len()).map(|i| b.get(i)).collect()
}

fn from_bools(v: &[bool]) -> Bitmap {
    let mut b = Bitmap::new(v.len());
    for (i, &x) in v.iter().enumerate() {
        if x {
            b.set(i);
        }
    }
    b
}

#[test]
fn whole_chunks_cost_no_block_and_a_block_turns_back_into_a_chunk() {
    let mut b = Bitmap::new(3 * CHUNK_BITS + 100);
    b.set_range(CHUNK_BITS, 3 * CHUNK_BITS + 100);
    assert_eq!(b.block_bytes(), 0);
    assert_eq!(b.count_ones(), 2 * CHUNK_BITS as u64 + 100);
    b.clear(CHUNK_BITS + 7);
    assert_eq!(b.block_bytes(), CHUNK_WORDS * 8);
    b.set(CHUNK_BITS + 7);
    assert_eq!(b.chunk_kind(1), ChunkKind::Full, "all set again");
    b.tidy(1);
    assert_eq!(b.block_bytes(), 0, "tidied: a full chunk again");
    assert_eq!(b, {
        let mut c = Bitmap::new(3 * CHUNK_BITS + 100);
        c.set_range(CHUNK_BITS, 3 * CHUNK_BITS + 100);
        c
    });
    // The short last chunk is full with its 100 bits.
    assert_eq!(b.chunk_kind(3), ChunkKind::Full);
    assert_eq!(b.word(b.words_len() - 1), (1 << (100 % 64)) - 1);
}

proptest! {
    #[test]
    fn set_range_matches_naive(len in 1usize..9000, a in 0usize..9000, b in 0usize..9000) {
        let (s, e) = (a.min(b).min(len), a.max(b).min(len));
        let mut bm = Bitmap::new(len);
        bm.set_range(s, e);
        for i in 0..len {
            prop_assert_eq!(bm.get(i), i >= s && i < e);
        }
        prop_assert_eq!(bm.count_ones(), (e - s) as u64);
        bm.clear_range(s, e);
        prop_assert_eq!(bm.count_ones(), 0);
        (0..bm.chunks_len()).for_each(|ci| bm.tidy(ci));
        prop_assert_eq!(bm.block_bytes(), 0);
    }

    #[test]
    fn operations_match_plain_booleans(
        len in 1usize..10000,
        ops in proptest::collection::vec((0u8..4, 0usize..10000, 0usize..10000), 0..30),
        other_ops in proptest::collection::vec((0u8..4, 0usize..10000, 0usize..10000), 0..30),
    ) {
        let build = |ops: &[(u8, usize, usize)]| {
            let mut b = Bitmap::new(len);
            for &(op, x, y) in ops {
                let (s, e) = (x.min(y) % len, x.max(y) % len + 1);
                match op {
                    0 => b.set_range(s, e),
                    1 => b.clear_range(s, e),
                    2 => {
                        b.set(s);
                    }
                    _ => b.clear(s),
                }
            }
            b
        };
        let (a, o) = (build(&ops), build(&other_ops));
        let (ma, mo) = (model(&a), model(&o));
        prop_assert_eq!(a.count_ones(), ma.iter().filter(|&&x| x).count() as u64);
        prop_assert_eq!(a.count_and(&o), (0..len).filter(|&i| ma[i] && mo[i]).count() as u64);
        prop_assert_eq!(a.count_and_not(&o), (0..len).filter(|&i| ma[i] && !mo[i]).count() as u64);
        prop_assert_eq!(a.count_and_and_not(&o, &a), 0);
        let mut or = a.clone();
        or.or_assign(&o);
        let want: Vec<bool> = (0..len).map(|i| ma[i] || mo[i]).collect();
        prop_assert_eq!(model(&or), want.clone());
        prop_assert_eq!(or.clone(), from_bools(&want), "same bits, same representation");
        prop_assert_eq!(or.count_ones(), want.iter().filter(|&&x| x).count() as u64);
        let mut andn = a.clone();
        andn.and_not_assign(&o);
        let want: Vec<bool> = (0..len).map(|i| ma[i] && !mo[i]).collect();
        prop_assert_eq!(model(&andn), want.clone());
        prop_assert_eq!(andn.count_ones(), want.iter().filter(|&&x| x).count() as u64);
        // next_set, count_range and select_clear against the booleans.
        let mut got = Vec::new();
        let mut i = 0;
        while let Some(j) = a.next_set(i) { got.push(j); i = j + 1; }
        prop_assert_eq!(got, (0..len).filter(|&i| ma[i]).collect::<Vec<_>>());
        let (s, e) = (len / 3, len - len / 4);
        prop_assert_eq!(a.count_range(s, e), (s..e).filter(|&i| ma[i]).count() as u64);
        let clear: Vec<usize> = (s..e).filter(|&i| !ma[i]).collect();
        for (r, &p) in clear.iter().enumerate().step_by(7) {
            prop_assert_eq!(a.select_clear(s, e, r as u64), Some(p));
        }
        prop_assert_eq!(a.select_clear(s, e, clear.len() as u64), None);
    }

    #[test]
    fn full_bitmap_counts_exactly(len in 0usize..10000) {
        prop_assert_eq!(Bitmap::full(len).count_ones(), len as u64);
        prop_assert_eq!(Bitmap::full(len), from_bools(&vec![true; len]));
    }
}

#[test]
fn select_in_word_finds_every_set_bit() {
    for x in [1u64, 0b1011_0100, u64::MAX, 0x8000_0000_0000_0001, 0xF0F0_0F0F_1234_8001] {
        let bits: Vec<u32> = (0..64).filter(|b| x >> b & 1 == 1).collect();
        for (r, &b) in bits.iter().enumerate() {
            assert_eq!(select_in_word(x, r as u32), b, "{x:#x} rank {r}");
        }
    }
}
