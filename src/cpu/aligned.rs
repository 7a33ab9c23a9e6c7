//! A zeroed buffer of floats whose first element sits on a 64-byte boundary: a cache line, and
//! one AVX-512 register. Rows of a multiple of 16 floats (784 and 512 among them) then all start
//! on one, so no SIMD load of a row straddles two cache lines: an unaligned start slows
//! `cpu::dot`'s first-layer forward product by a few percent with AVX-512 and by 10–20% with
//! AVX2 (BENCHMARKS.md).

use std::ops::{Deref, DerefMut};

/// Bytes to align to.
const ALIGN_BYTES: usize = 64;

/// `len` values of `T`, 64-byte aligned where the allocator allows it; a slice otherwise.
pub struct Aligned<T> {
    /// `len` values plus room to move the start to the boundary.
    storage: Vec<T>,
    start: usize,
    len: usize,
}

impl<T: num_traits::Zero + Copy> Aligned<T> {
    /// `len` zeros.
    pub fn zeroed(len: usize) -> Self {
        let room = ALIGN_BYTES / std::mem::size_of::<T>();
        let storage = vec![T::zero(); len + room];
        // align_offset may decline to say (usize::MAX): then the values start unaligned, still
        // correct.
        let offset = storage.as_ptr().align_offset(ALIGN_BYTES);
        let start = if offset <= room { offset } else { 0 };
        Aligned { storage, start, len }
    }

    /// A copy of `values`.
    pub fn from_slice(values: &[T]) -> Self {
        let mut aligned = Aligned::zeroed(values.len());
        aligned.copy_from_slice(values);
        aligned
    }
}

impl<T> Deref for Aligned<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.storage[self.start..self.start + self.len]
    }
}

impl<T> DerefMut for Aligned<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.storage[self.start..self.start + self.len]
    }
}
