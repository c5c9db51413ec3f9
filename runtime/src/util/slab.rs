//! A generational slab: values stored by index, with O(1) remove and O(pages) insert, and keys
//! that remember the generation of their slot so that a key outliving its value never finds the
//! value stored after it in the same slot.
//!
//! The reactor uses the key as the epoll token of a registration (a stale event for a closed fd
//! whose slot was reused then finds nothing) and keeps each fd's state in its slot; the scheduler
//! uses it to find a task in the list of tasks a runtime owns.
//!
//! # Pages, and memory after a burst
//!
//! The slots live in pages of 32, 64, 128, … slots, each its own allocation. A value never moves
//! while it is stored (the reactor hands out pointers to its slots), growing never copies, and an
//! insert takes a vacant slot of the lowest page that has one, so that after a burst the values left gather in the first
//! pages. When the last page holds nothing and the pages before it are at most half full, it is
//! freed: the memory of a burst goes back to malloc as whole blocks, and no table that grew in
//! the burst stays high in the heap to keep malloc from returning the memory freed below it.
//! A page made again at an index that was freed starts its slots at a generation above any they
//! had, so old keys stay stale.

use std::cell::UnsafeCell;
use std::ptr::NonNull;

/// Where a value lives in a [`Slab`]: the slot index and the slot's generation when it was stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    index: u32,
    generation: u32,
}

impl Key {
    /// A key that no slab ever hands out (index `u32::MAX` selects page-table entry 31, past any
    /// page a slab can have, so it is always empty).
    pub(crate) const NONE: Key = Key {
        index: u32::MAX,
        generation: u32::MAX,
    };

    /// The key as one word: generation in the high half, index in the low half.
    pub(crate) fn to_u64(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.index)
    }

    /// The inverse of [`Key::to_u64`].
    pub(crate) fn from_u64(word: u64) -> Key {
        Key {
            index: word as u32,
            generation: (word >> 32) as u32,
        }
    }
}

enum Slot<T> {
    Occupied { generation: u32, value: T },
    Vacant { generation: u32, next_vacant: u32 },
}

/// The slots of the first page; page `p` has `FIRST_PAGE << p`.
const FIRST_PAGE: u32 = 32;
/// A key's index is its page (the top bits) and its offset in the page (the low `OFFSET_BITS`),
/// so that finding a slot is a shift and a mask. The largest page has `1 << OFFSET_BITS` slots.
const OFFSET_BITS: u32 = 26;
const OFFSET_MASK: u32 = (1 << OFFSET_BITS) - 1;
/// Pages of 32 up to 2^26 slots: about 2^27 values in all.
const MAX_PAGES: usize = (OFFSET_BITS - FIRST_PAGE.ilog2() + 1) as usize;
/// The page table's length: a power of two above `MAX_PAGES`, so that any index's page bits
/// select an entry without a bounds check (entries past the last page are empty pages).
const PAGE_TABLE: usize = 32;

/// One page: its slots, behind a raw pointer (each slot's `UnsafeCell` is the only way in, so a
/// pointer to one value handed out by the reactor never aliases a reference to the whole page),
/// its free list (offsets within the page) and how many values it holds.
struct Page<T> {
    /// The first of `size` slots.
    slots: NonNull<UnsafeCell<Slot<T>>>,
    size: u32,
    /// Offset of the first vacant slot; the page's size when there is none.
    first_vacant: u32,
    occupied: u32,
}

/// The values, in pages.
pub(crate) struct Slab<T> {
    /// Pages `0..pages`, each twice the one before. Inline, not a `Vec`: a list of pages that
    /// grew in a burst would itself be an allocation high in the heap that outlives it.
    page_table: [Page<T>; PAGE_TABLE],
    /// How many pages there are.
    pages: usize,
    len: usize,
    /// The generation the slots of a new page start at: above that of every slot ever freed.
    fresh_generation: u32,
}

// SAFETY: the slab owns its values (the raw page pointers are its own allocations); moving it to
// another thread moves them.
unsafe impl<T: Send> Send for Slab<T> {}

/// How many slots the pages before page `page` hold together: `FIRST_PAGE * (2^page - 1)`.
fn slots_before(page: usize) -> usize {
    FIRST_PAGE as usize * ((1 << page) - 1)
}

/// The index of the slot at `offset` in page `page`.
fn index_of(page: usize, offset: u32) -> u32 {
    (page as u32) << OFFSET_BITS | offset
}

/// The page and the offset in it of index `index`.
#[inline]
fn locate(index: u32) -> (usize, u32) {
    ((index >> OFFSET_BITS) as usize % PAGE_TABLE, index & OFFSET_MASK)
}

impl<T> Page<T> {
    /// No slots: the page table's entries past the last page.
    const EMPTY: Page<T> = Page {
        slots: NonNull::dangling(),
        size: 0,
        first_vacant: 0,
        occupied: 0,
    };

    /// A page of `size` vacant slots at `generation`, chained in order.
    fn new(size: u32, generation: u32) -> Page<T> {
        let slots: Box<[UnsafeCell<Slot<T>>]> = (0..size)
            .map(|offset| {
                UnsafeCell::new(Slot::Vacant {
                    generation,
                    next_vacant: offset + 1,
                })
            })
            .collect();
        Page {
            slots: NonNull::from(Box::leak(slots)).cast(),
            size,
            first_vacant: 0,
            occupied: 0,
        }
    }

    fn size(&self) -> u32 {
        self.size
    }

    /// The slot at `offset`, as a raw pointer into its cell.
    #[inline]
    fn slot(&self, offset: u32) -> Option<*mut Slot<T>> {
        // SAFETY: `slots` is the live allocation of `size` cells this page made in `new` (freed
        // only in `Drop`) and `offset` is within it; no reference to a whole page is ever made,
        // every access to a slot goes through its own `UnsafeCell`.
        (offset < self.size).then(|| unsafe { (*self.slots.as_ptr().add(offset as usize)).get() })
    }

    /// The highest generation of the page's slots, for the slab's `fresh_generation` (a vacant
    /// slot's generation is already one past that of the last key it gave out).
    fn next_generation(&self) -> u32 {
        (0..self.size())
            .filter_map(|offset| self.slot(offset))
            .map(|slot| {
                // SAFETY: `&mut self` on the slab (the caller) means no value of this page is
                // borrowed; the page is empty, so no pointer to one is out either.
                match unsafe { &*slot } {
                    Slot::Occupied { generation, .. } | Slot::Vacant { generation, .. } => *generation,
                }
            })
            .max()
            .unwrap_or(0)
    }
}

impl<T> Drop for Page<T> {
    fn drop(&mut self) {
        if self.size == 0 {
            return; // `EMPTY`: nothing was allocated
        }
        let slots = std::ptr::slice_from_raw_parts_mut(self.slots.as_ptr(), self.size as usize);
        // SAFETY: `slots` and `size` came from `Box::leak` in `new`; freed only here, once.
        drop(unsafe { Box::from_raw(slots) });
    }
}

impl<T> Slab<T> {
    pub(crate) const fn new() -> Slab<T> {
        Slab {
            page_table: [const { Page::EMPTY }; PAGE_TABLE],
            pages: 0,
            len: 0,
            fresh_generation: 0,
        }
    }

    /// How many values it holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The pages there are, in order.
    fn pages(&self) -> impl Iterator<Item = &Page<T>> {
        self.page_table[..self.pages].iter()
    }

    /// Page `page` (past the last, the table holds `Page::EMPTY`, whose slots are none).
    #[inline]
    fn page(&self, page: usize) -> Option<&Page<T>> {
        self.page_table.get(page)
    }

    fn page_mut(&mut self, page: usize) -> &mut Page<T> {
        &mut self.page_table[page]
    }

    /// Stores `value` in a vacant slot of the lowest page that has one (a new page if every page
    /// is full) and returns its key.
    pub(crate) fn insert(&mut self, value: T) -> Key {
        let vacant_page = self.pages().position(|page| page.first_vacant < page.size());
        let page = match vacant_page {
            Some(page) => page,
            None => {
                assert!(self.pages < MAX_PAGES, "slab is full: about 2^27 values");
                let size = FIRST_PAGE << self.pages;
                self.page_table[self.pages] = Page::new(size, self.fresh_generation);
                self.pages += 1;
                self.pages - 1
            }
        };
        let page_slots = self.page_mut(page);
        let offset = page_slots.first_vacant;
        let slot = page_slots.slot(offset).expect("the free list stays within its page");
        // SAFETY: `&mut self`: no reference to a slot's value is live, and a pointer handed out
        // for an occupied slot is never for this one, which is vacant.
        let slot = unsafe { &mut *slot };
        let Slot::Vacant {
            generation,
            next_vacant,
        } = *slot
        else {
            unreachable!("the free list points at an occupied slot")
        };
        page_slots.first_vacant = next_vacant;
        page_slots.occupied += 1;
        *slot = Slot::Occupied { generation, value };
        self.len += 1;
        Key {
            index: index_of(page, offset),
            generation,
        }
    }

    /// The slot `key` names, if its page exists.
    #[inline]
    fn slot(&self, key: Key) -> Option<*mut Slot<T>> {
        let (page, offset) = locate(key.index);
        self.page(page)?.slot(offset)
    }

    /// The value stored under `key`, unless it was removed since.
    #[inline]
    pub(crate) fn get(&self, key: Key) -> Option<&T> {
        // SAFETY: `&self`: values are changed only through `&mut self`, so a shared reference
        // to this one lives no longer than the borrow of the slab.
        match unsafe { &*self.slot(key)? } {
            Slot::Occupied { generation, value } if *generation == key.generation => Some(value),
            _ => None,
        }
    }

    /// The value stored under `key`, mutably, unless it was removed since.
    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        // SAFETY: `&mut self`: no other reference to a value is live, so this one is unique for
        // the borrow of the slab.
        match unsafe { &mut *self.slot(key)? } {
            Slot::Occupied { generation, value } if *generation == key.generation => Some(value),
            _ => None,
        }
    }

    /// Takes the value stored under `key` out, unless it was removed already; frees the last
    /// pages once they are empty and the rest at most half full.
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let (page, offset) = locate(key.index);
        let slot = self.page(page)?.slot(offset)?;
        // SAFETY: `&mut self`: no reference to a value is live; the caller owns the value under
        // `key` (pointers to it handed out by the reactor are no longer used once it removes it).
        let slot = unsafe { &mut *slot };
        match slot {
            Slot::Occupied { generation, .. } if *generation == key.generation => {}
            _ => return None,
        }
        let page_slots = self.page_mut(page);
        let vacant = Slot::Vacant {
            generation: key.generation.wrapping_add(1),
            next_vacant: page_slots.first_vacant,
        };
        let Slot::Occupied { value, .. } = std::mem::replace(slot, vacant) else {
            unreachable!()
        };
        page_slots.first_vacant = offset;
        page_slots.occupied -= 1;
        self.len -= 1;
        self.free_empty_pages();
        Some(value)
    }

    /// Frees the last page while it is empty, not the first, and the pages before it would be at
    /// most half full: after a burst, the burst's pages go; a slab that keeps hovering around a
    /// page's edge does not free and remake it each time.
    fn free_empty_pages(&mut self) {
        while self.pages > 1 {
            let last = self.pages - 1;
            if self.page_mut(last).occupied != 0 || self.len * 2 > slots_before(last) {
                return;
            }
            let freed = std::mem::replace(&mut self.page_table[last], Page::EMPTY);
            self.pages = last;
            self.fresh_generation = self.fresh_generation.max(freed.next_generation());
        }
    }

    /// Every stored value, in index order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.pages().flat_map(|page| {
            (0..page.size()).filter_map(move |offset| {
                // SAFETY: as in `get`: the values live at least as long as the borrow of the slab.
                match unsafe { &*page.slot(offset)? } {
                    Slot::Occupied { value, .. } => Some(value),
                    Slot::Vacant { .. } => None,
                }
            })
        })
    }

    /// Every stored value, mutably, in index order.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.pages().flat_map(|page| {
            (0..page.size()).filter_map(move |offset| {
                // SAFETY: `&mut self`: no other reference to a value is live, and each slot is
                // visited once, so the references handed out do not overlap.
                match unsafe { &mut *page.slot(offset)? } {
                    Slot::Occupied { value, .. } => Some(value),
                    Slot::Vacant { .. } => None,
                }
            })
        })
    }

    /// Removes and returns every value; keys handed out before stay invalid.
    pub(crate) fn drain(&mut self) -> Vec<T> {
        let mut keys = Vec::with_capacity(self.len);
        for (page, slots) in self.pages().enumerate() {
            for offset in 0..slots.size() {
                let slot = slots.slot(offset).expect("within the page");
                // SAFETY: as in `get`; the reference ends before any change.
                if let Slot::Occupied { generation, .. } = unsafe { &*slot } {
                    keys.push(Key {
                        index: index_of(page, offset),
                        generation: *generation,
                    });
                }
            }
        }
        keys.into_iter().filter_map(|key| self.remove(key)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_does_not_find_the_next_value_in_its_slot() {
        let mut slab = Slab::new();
        let old = slab.insert("old");
        assert_eq!(slab.remove(old), Some("old"));
        let new = slab.insert("new");
        assert_eq!(new.index, old.index);
        assert_eq!(slab.get(old), None);
        assert_eq!(slab.remove(old), None);
        assert_eq!(slab.get(new), Some(&"new"));
        assert_eq!(Key::from_u64(new.to_u64()), new);
    }

    #[test]
    fn after_a_burst_the_empty_pages_are_freed_and_old_keys_stay_stale() {
        let mut slab = Slab::new();
        let keys: Vec<Key> = (0..10_000).map(|i| slab.insert(i)).collect();
        assert_eq!(slab.pages, 9, "pages of 32 to 8192 slots");
        // Keep the first and one in page 4 (the 480th to 991st values).
        let kept = [keys[0], keys[600]];
        for key in keys.iter().filter(|key| !kept.contains(key)) {
            assert!(slab.remove(*key).is_some());
        }
        assert_eq!(slab.len(), 2);
        assert_eq!(slab.pages, 5, "the burst's pages are freed");
        assert_eq!(slab.get(keys[0]), Some(&0));
        assert_eq!(slab.get(keys[600]), Some(&600));
        // New values fill the lowest pages first, then new pages; no old key finds them.
        let new: Vec<Key> = (0..10_000).map(|i| slab.insert(20_000 + i)).collect();
        assert_eq!(locate(new[0].index).0, 0, "the first page first: {:?}", new[0]);
        assert!(new.iter().all(|key| !keys.contains(key)), "a new key equals an old one");
        for old in keys.iter().filter(|key| !kept.contains(key)) {
            assert_eq!(slab.get(*old), None, "{old:?}");
        }
        assert_eq!(slab.len(), 10_002);
    }

    #[test]
    fn a_slab_around_a_page_edge_does_not_free_and_remake_the_page_each_time() {
        let mut slab = Slab::new();
        let keys: Vec<Key> = (0..96).map(|i| slab.insert(i)).collect(); // pages of 32 and 64
        assert_eq!(slab.pages, 2);
        for _ in 0..10 {
            let key = slab.insert(1000); // a third page
            assert_eq!(slab.pages, 3);
            slab.remove(key);
            assert_eq!(slab.pages, 3, "the others are full: the page stays");
        }
        for key in &keys[40..] {
            slab.remove(*key);
        }
        assert_eq!(slab.pages, 2, "empty, and the rest at most half full: freed");
    }

    #[test]
    fn vacant_slots_are_reused_and_drain_empties() {
        let mut slab = Slab::new();
        let keys: Vec<Key> = (0..10).map(|i| slab.insert(i)).collect();
        for key in &keys[2..5] {
            slab.remove(*key);
        }
        assert_eq!(slab.len, 7);
        for i in 0..3 {
            assert!(slab.insert(100 + i).index < 5);
        }
        let mut drained = slab.drain();
        drained.sort();
        assert_eq!(drained, vec![0, 1, 5, 6, 7, 8, 9, 100, 101, 102]);
        assert_eq!(slab.len, 0);
        assert_eq!(slab.get(keys[0]), None);
        assert_eq!(slab.get(Key::NONE), None);
    }
}
