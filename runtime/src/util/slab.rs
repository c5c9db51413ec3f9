//! A generational slab: values stored by index, with O(1) insert and remove, and keys that
//! remember the generation of their slot so that a key outliving its value never finds the value
//! stored after it in the same slot.
//!
//! The reactor uses the key as the epoll token of a registration (a stale event for a closed fd
//! whose slot was reused then finds nothing), and the scheduler uses it to find a task in the
//! list of tasks a runtime owns.

/// Where a value lives in a [`Slab`]: the slot index and the slot's generation when it was stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    index: u32,
    generation: u32,
}

impl Key {
    /// A key that no slab ever hands out (index `u32::MAX` is never reached).
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

/// The values, their free list, and how many there are.
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    /// Index of the first vacant slot; `slots.len()` when there is none.
    first_vacant: u32,
    len: usize,
}

impl<T> Slab<T> {
    pub(crate) const fn new() -> Slab<T> {
        Slab {
            slots: Vec::new(),
            first_vacant: 0,
            len: 0,
        }
    }

    /// How many values it holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Stores `value` and returns its key.
    pub(crate) fn insert(&mut self, value: T) -> Key {
        let index = self.first_vacant;
        let generation = match self.slots.get_mut(index as usize) {
            Some(slot) => {
                let Slot::Vacant {
                    generation,
                    next_vacant,
                } = *slot
                else {
                    unreachable!("the free list points at an occupied slot")
                };
                self.first_vacant = next_vacant;
                *slot = Slot::Occupied { generation, value };
                generation
            }
            None => {
                assert!(index < u32::MAX, "slab is full: 2^32 - 1 values");
                self.slots.push(Slot::Occupied { generation: 0, value });
                self.first_vacant = index + 1;
                0
            }
        };
        self.len += 1;
        Key { index, generation }
    }

    /// The value stored under `key`, unless it was removed since.
    pub(crate) fn get(&self, key: Key) -> Option<&T> {
        match self.slots.get(key.index as usize)? {
            Slot::Occupied { generation, value } if *generation == key.generation => Some(value),
            _ => None,
        }
    }

    /// The value stored under `key`, mutably, unless it was removed since.
    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.slots.get_mut(key.index as usize)? {
            Slot::Occupied { generation, value } if *generation == key.generation => Some(value),
            _ => None,
        }
    }

    /// Takes the value stored under `key` out, unless it was removed already.
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        match slot {
            Slot::Occupied { generation, .. } if *generation == key.generation => {}
            _ => return None,
        }
        let vacant = Slot::Vacant {
            generation: key.generation.wrapping_add(1),
            next_vacant: self.first_vacant,
        };
        let Slot::Occupied { value, .. } = std::mem::replace(slot, vacant) else {
            unreachable!()
        };
        self.first_vacant = key.index;
        self.len -= 1;
        Some(value)
    }

    /// Every stored value, in index order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(|slot| match slot {
            Slot::Occupied { value, .. } => Some(value),
            Slot::Vacant { .. } => None,
        })
    }

    /// Every stored value, mutably, in index order.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.slots.iter_mut().filter_map(|slot| match slot {
            Slot::Occupied { value, .. } => Some(value),
            Slot::Vacant { .. } => None,
        })
    }

    /// Removes and returns every value; keys handed out before stay invalid.
    pub(crate) fn drain(&mut self) -> Vec<T> {
        let mut values = Vec::with_capacity(self.len);
        for index in 0..self.slots.len() as u32 {
            let generation = match self.slots[index as usize] {
                Slot::Occupied { generation, .. } => generation,
                Slot::Vacant { .. } => continue,
            };
            values.extend(self.remove(Key { index, generation }));
        }
        values
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
