//! Just enough of FlatBuffers to read a TFLite model: tables (through their
//! vtables), vectors, strings and scalars, little-endian, every offset
//! checked against the buffer, so that a truncated or hostile file is an
//! error and never a panic or an out-of-bounds read.
//!
//! A FlatBuffer starts with the offset of its root table. A table starts
//! with a signed offset back (or forward) to its vtable; the vtable lists,
//! per field id, where the field sits in the table (0: absent, its default
//! applies). A field that refers to a vector, string or table holds an
//! unsigned offset from itself; a vector is its length then its elements.

use super::TfliteError;

/// The whole file, with bounds-checked reads.
#[derive(Clone, Copy)]
pub(crate) struct Buffer<'a> {
    bytes: &'a [u8],
}

/// One table: where it starts, and its vtable's field positions.
#[derive(Clone, Copy)]
pub(crate) struct Table<'a> {
    buffer: Buffer<'a>,
    start: usize,
    vtable: usize,
    vtable_len: usize,
}

/// A vector of offsets or scalars: where its first element is, and how many.
#[derive(Clone, Copy)]
pub(crate) struct Vector<'a> {
    buffer: Buffer<'a>,
    start: usize,
    len: usize,
}

fn malformed(what: &str) -> TfliteError {
    TfliteError::Malformed(what.to_string())
}

impl<'a> Buffer<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Buffer<'a> {
        Buffer { bytes }
    }

    fn slice(&self, at: usize, len: usize) -> Result<&'a [u8], TfliteError> {
        at.checked_add(len)
            .and_then(|end| self.bytes.get(at..end))
            .ok_or_else(|| malformed("an offset points past the end of the file"))
    }

    fn u8(&self, at: usize) -> Result<u8, TfliteError> {
        Ok(self.slice(at, 1)?[0])
    }

    fn u16(&self, at: usize) -> Result<u16, TfliteError> {
        let b = self.slice(at, 2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&self, at: usize) -> Result<u32, TfliteError> {
        let b = self.slice(at, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i32(&self, at: usize) -> Result<i32, TfliteError> {
        Ok(self.u32(at)? as i32)
    }

    fn u64(&self, at: usize) -> Result<u64, TfliteError> {
        let b = self.slice(at, 8)?;
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(b);
        Ok(u64::from_le_bytes(bytes))
    }

    /// The position an unsigned offset stored at `at` points to.
    fn follow(&self, at: usize) -> Result<usize, TfliteError> {
        at.checked_add(self.u32(at)? as usize)
            .filter(|&target| target < self.bytes.len())
            .ok_or_else(|| malformed("an offset points past the end of the file"))
    }

    /// The root table.
    pub(crate) fn root(&self) -> Result<Table<'a>, TfliteError> {
        let start = self.follow(0)?;
        self.table(start)
    }

    fn table(&self, start: usize) -> Result<Table<'a>, TfliteError> {
        let back = self.i32(start)? as i64;
        let vtable = usize::try_from(start as i64 - back)
            .map_err(|_| malformed("a table's vtable lies before the file"))?;
        let vtable_len = self.u16(vtable)? as usize;
        if vtable_len < 4 || !vtable_len.is_multiple_of(2) {
            return Err(malformed("a vtable has an impossible size"));
        }
        self.slice(vtable, vtable_len)?;
        Ok(Table {
            buffer: *self,
            start,
            vtable,
            vtable_len,
        })
    }

    fn vector(&self, at: usize) -> Result<Vector<'a>, TfliteError> {
        let len = self.u32(at)? as usize;
        let start = at + 4;
        // Elements are at least one byte: a length past the file is a lie.
        self.slice(start, len)?;
        Ok(Vector {
            buffer: *self,
            start,
            len,
        })
    }
}

impl<'a> Table<'a> {
    /// Where field `id` is, or `None` when the table leaves it out.
    fn field(&self, id: usize) -> Result<Option<usize>, TfliteError> {
        let slot = 4 + 2 * id;
        if slot + 2 > self.vtable_len {
            return Ok(None);
        }
        let offset = self.buffer.u16(self.vtable + slot)? as usize;
        Ok((offset != 0).then_some(self.start + offset))
    }

    pub(crate) fn u8(&self, id: usize, default: u8) -> Result<u8, TfliteError> {
        self.field(id)?.map_or(Ok(default), |at| self.buffer.u8(at))
    }

    pub(crate) fn i32(&self, id: usize, default: i32) -> Result<i32, TfliteError> {
        self.field(id)?
            .map_or(Ok(default), |at| self.buffer.i32(at))
    }

    pub(crate) fn u32(&self, id: usize, default: u32) -> Result<u32, TfliteError> {
        self.field(id)?
            .map_or(Ok(default), |at| self.buffer.u32(at))
    }

    pub(crate) fn u64(&self, id: usize, default: u64) -> Result<u64, TfliteError> {
        self.field(id)?
            .map_or(Ok(default), |at| self.buffer.u64(at))
    }

    /// A sub-table field.
    pub(crate) fn table(&self, id: usize) -> Result<Option<Table<'a>>, TfliteError> {
        match self.field(id)? {
            Some(at) => Ok(Some(self.buffer.table(self.buffer.follow(at)?)?)),
            None => Ok(None),
        }
    }

    /// A vector field (`None` when absent).
    pub(crate) fn vector(&self, id: usize) -> Result<Option<Vector<'a>>, TfliteError> {
        match self.field(id)? {
            Some(at) => Ok(Some(self.buffer.vector(self.buffer.follow(at)?)?)),
            None => Ok(None),
        }
    }

    /// A string field, as UTF-8 (lossy: names are for messages only).
    pub(crate) fn string(&self, id: usize) -> Result<String, TfliteError> {
        Ok(self
            .vector(id)?
            .map(|v| String::from_utf8_lossy(v.bytes().unwrap_or_default()).into_owned())
            .unwrap_or_default())
    }

    /// A vector of `i32` (empty when absent).
    pub(crate) fn i32s(&self, id: usize) -> Result<Vec<i32>, TfliteError> {
        match self.vector(id)? {
            Some(v) => v.i32s(),
            None => Ok(Vec::new()),
        }
    }

    /// A vector of tables (empty when absent).
    pub(crate) fn tables(&self, id: usize) -> Result<Vec<Table<'a>>, TfliteError> {
        match self.vector(id)? {
            Some(v) => (0..v.len).map(|i| v.table(i)).collect(),
            None => Ok(Vec::new()),
        }
    }
}

impl<'a> Vector<'a> {
    /// The elements as bytes.
    pub(crate) fn bytes(&self) -> Result<&'a [u8], TfliteError> {
        self.buffer.slice(self.start, self.len)
    }

    fn i32s(&self) -> Result<Vec<i32>, TfliteError> {
        let bytes = self.buffer.slice(self.start, self.len.saturating_mul(4))?;
        Ok(bytes
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn table(&self, index: usize) -> Result<Table<'a>, TfliteError> {
        let at = self.start + 4 * index;
        self.buffer.table(self.buffer.follow(at)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-made buffer: root offset, a vtable of two fields (the second
    /// absent), a table holding one i32 (7) and a vector of two i32s.
    fn sample() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&12u32.to_le_bytes()); // 0: root table at 12
        b.extend_from_slice(&8u16.to_le_bytes()); // 4: vtable size (2 fields)
        b.extend_from_slice(&12u16.to_le_bytes()); // 6: table size
        b.extend_from_slice(&4u16.to_le_bytes()); // 8: field 0 at table + 4
        b.extend_from_slice(&8u16.to_le_bytes()); // 10: field 1 at table + 8
        b.extend_from_slice(&8i32.to_le_bytes()); // 12: table: vtable at 12 - 8 = 4
        b.extend_from_slice(&7i32.to_le_bytes()); // 16: field 0 = 7
        b.extend_from_slice(&4u32.to_le_bytes()); // 20: field 1: vector at 20 + 4
        b.extend_from_slice(&2u32.to_le_bytes()); // 24: two elements
        b.extend_from_slice(&(-3i32).to_le_bytes());
        b.extend_from_slice(&5i32.to_le_bytes());
        b
    }

    #[test]
    fn reads_scalars_vectors_and_defaults() {
        let bytes = sample();
        let root = Buffer::new(&bytes).root().unwrap();
        assert_eq!(root.i32(0, 0).unwrap(), 7);
        assert_eq!(root.i32s(1).unwrap(), [-3, 5]);
        assert_eq!(root.i32(2, 42).unwrap(), 42, "a field the vtable lacks");
        assert!(root.tables(3).unwrap().is_empty());
    }

    #[test]
    fn every_truncation_and_bad_offset_is_an_error_not_a_panic() {
        let bytes = sample();
        for len in 0..bytes.len() {
            let cut = &bytes[..len];
            let read = Buffer::new(cut)
                .root()
                .and_then(|root| Ok((root.i32(0, 0)?, root.i32s(1)?)));
            assert!(read.is_err(), "{len} bytes read as {read:?}");
        }
        let mut lying = bytes.clone();
        lying[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Buffer::new(&lying).root().unwrap().i32s(1).is_err());
        let mut far = bytes;
        far[0..4].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
        assert!(Buffer::new(&far).root().is_err());
    }
}
