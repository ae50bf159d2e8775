//! The discrete-event core: an integer-nanosecond clock and a queue of events ordered by time, then
//! by the order they were scheduled, so a run is deterministic; and an indexed heap, for events that
//! are moved rather than added again (a flow's completion, `network`), which shares the queue's
//! scheduling order so that both merge into one sequence.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Simulated time in nanoseconds.
pub type SimTime = u64;

struct Entry<E> {
    at: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<Entry<E>>>,
    seq: u64,
    now: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { heap: BinaryHeap::new(), seq: 0, now: 0 }
    }
}

impl<E> EventQueue<E> {
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The scheduling-order counter, for events kept outside the queue (an `IndexedHeap`).
    pub fn seq_mut(&mut self) -> &mut u64 {
        &mut self.seq
    }

    /// The time and scheduling order of the next event.
    pub fn peek(&self) -> Option<(SimTime, u64)> {
        self.heap.peek().map(|Reverse(e)| (e.at, e.seq))
    }

    /// Advance the clock to `at` for an event taken from outside the queue.
    pub fn advance_to(&mut self, at: SimTime) {
        debug_assert!(at >= self.now);
        self.now = at;
    }

    /// Schedule `event` at `at` (never in the past).
    pub fn schedule(&mut self, at: SimTime, event: E) {
        let at = at.max(self.now);
        self.heap.push(Reverse(Entry { at, seq: self.seq, event }));
        self.seq += 1;
    }

    /// The next event, advancing the clock to its time.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let Reverse(e) = self.heap.pop()?;
        self.now = e.at;
        Some((e.at, e.event))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// A binary min-heap of priorities keyed by small integers (`0..n`), with the position of each key
/// kept so that a key's priority can be changed or removed in O(log n). Written here rather than
/// taken from a crate because the keys are dense indices (the crates hash their keys).
#[derive(Debug, Clone)]
pub struct IndexedHeap<P> {
    /// (key, priority), heap-ordered by priority.
    pub(crate) items: Vec<(usize, P)>,
    /// Where each key sits in `items` (`usize::MAX`: absent).
    pos: Vec<usize>,
}

impl<P> Default for IndexedHeap<P> {
    fn default() -> Self {
        IndexedHeap { items: Vec::new(), pos: Vec::new() }
    }
}

impl<P: Ord + Copy> IndexedHeap<P> {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The key with the least priority, and that priority.
    pub fn peek(&self) -> Option<(usize, &P)> {
        self.items.first().map(|(k, p)| (*k, p))
    }

    /// Put `key` in the heap with priority `p`, or move it there.
    pub fn set(&mut self, key: usize, p: P) {
        if key >= self.pos.len() {
            self.pos.resize(key + 1, usize::MAX);
        }
        let i = self.pos[key];
        if i == usize::MAX {
            self.items.push((key, p));
            let i = self.items.len() - 1;
            self.pos[key] = i;
            self.up(i);
        } else {
            let old = self.items[i].1;
            self.items[i].1 = p;
            if p < old { self.up(i) } else { self.down(i) }
        }
    }

    /// Take `key` out of the heap (nothing if it is not there).
    pub fn remove(&mut self, key: usize) {
        let Some(&i) = self.pos.get(key) else { return };
        if i == usize::MAX {
            return;
        }
        let last = self.items.len() - 1;
        self.swap(i, last);
        self.items.pop();
        self.pos[key] = usize::MAX;
        if i < self.items.len() {
            self.up(i);
            self.down(i);
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        self.items.swap(a, b);
        self.pos[self.items[a].0] = a;
        self.pos[self.items[b].0] = b;
    }

    fn up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.items[i].1 >= self.items[parent].1 {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut least = i;
            if l < self.items.len() && self.items[l].1 < self.items[least].1 {
                least = l;
            }
            if r < self.items.len() && self.items[r].1 < self.items[least].1 {
                least = r;
            }
            if least == i {
                break;
            }
            self.swap(i, least);
            i = least;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_time_events_keep_schedule_order() {
        let mut q = EventQueue::default();
        q.schedule(5, 'b');
        q.schedule(1, 'a');
        q.schedule(5, 'c');
        q.schedule(5, 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['a', 'b', 'c', 'd']);
    }

    #[test]
    fn never_schedules_in_the_past() {
        let mut q = EventQueue::default();
        q.schedule(10, 1);
        q.pop();
        q.schedule(3, 2);
        assert_eq!(q.pop(), Some((10, 2)));
    }

    #[test]
    fn indexed_heap_moves_and_removes_keys() {
        let mut h = IndexedHeap::default();
        for (k, p) in [(3, 30), (1, 10), (2, 20), (0, 40)] {
            h.set(k, p);
        }
        assert_eq!(h.peek(), Some((1, &10)));
        h.set(1, 50); // moved later
        assert_eq!(h.peek(), Some((2, &20)));
        h.set(0, 5); // moved earlier
        assert_eq!(h.peek(), Some((0, &5)));
        h.remove(0);
        h.remove(7); // absent: nothing
        let mut order = Vec::new();
        while let Some((k, _)) = h.peek() {
            order.push(k);
            h.remove(k);
        }
        assert_eq!(order, vec![2, 3, 1]);
        assert!(h.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn indexed_heap_pops_in_priority_order(ops in proptest::collection::vec((0usize..20, 0u32..100, proptest::bool::ANY), 1..200)) {
            let mut h = IndexedHeap::default();
            let mut model = std::collections::BTreeMap::new();
            for (k, p, del) in ops {
                if del { h.remove(k); model.remove(&k); } else { h.set(k, (p, k)); model.insert(k, (p, k)); }
            }
            let mut want: Vec<(u32, usize)> = model.values().copied().collect();
            want.sort();
            let mut got = Vec::new();
            while let Some((k, p)) = h.peek() { got.push(*p); h.remove(k); }
            proptest::prop_assert_eq!(got, want);
        }
    }
}
