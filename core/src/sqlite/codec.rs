//! How a chunk of series points is laid out in one BLOB.
//!
//! A series is stored as chunks of many points, each chunk one row. A
//! chunk is columnar: all steps, then all values, then all timestamps, so
//! that the common shapes stay small and the bytes read back exactly:
//!
//! ```text
//! u8   format (1)
//! u8   kind: 0 float, 1 string, 2 file
//! u32  count (little-endian, as every number below)
//! u8   steps: 0 = count × f64, 1 = arithmetic: first f64, delta f64
//! ...  values: float: count × f64 bits; string: count × (u32 len, UTF-8);
//!      file: count × (32-byte SHA-256, u32 name len, name, u64 size)
//! var  timestamps: ns since the Unix epoch, the first one, then the
//!      difference to the one before, each a zigzag varint (a point logged
//!      in the same clock tick as the last costs one byte)
//! ```
//!
//! Floats are stored as their bits, so NaN payloads, ±Inf and -0.0 come
//! back as they went in (a SQLite REAL would turn NaN into NULL).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::value::FileInfo;

use integer_encoding::VarInt;

pub(crate) const FORMAT: u8 = 1;

/// Points of one chunk, as the writer collects them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Points {
    Float(Vec<f64>),
    String(Vec<String>),
    File(Vec<StoredFile>),
}

/// A FileSeries point's file: its content address and what it was called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredFile {
    pub(crate) sha256: [u8; 32],
    pub(crate) name: String,
    pub(crate) size: u64,
}

impl StoredFile {
    pub(crate) fn info(&self) -> FileInfo {
        FileInfo {
            name: self.name.clone(),
            extension: crate::file::extension_of(&self.name).to_owned(),
            size: self.size,
        }
    }
}

/// One point's value on its way into a chunk.
pub(crate) enum PointValue {
    Float(f64),
    String(String),
    File(StoredFile),
}

impl Points {
    /// Adds `value` when it is of this chunk's kind; `false` (and nothing
    /// added) when it is not.
    #[inline]
    pub(crate) fn push(&mut self, value: PointValue) -> bool {
        match (self, value) {
            (Points::Float(v), PointValue::Float(x)) => v.push(x),
            (Points::String(v), PointValue::String(x)) => v.push(x),
            (Points::File(v), PointValue::File(x)) => v.push(x),
            _ => return false,
        }
        true
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Points::Float(v) => v.len(),
            Points::String(v) => v.len(),
            Points::File(v) => v.len(),
        }
    }

    fn kind(&self) -> u8 {
        match self {
            Points::Float(_) => 0,
            Points::String(_) => 1,
            Points::File(_) => 2,
        }
    }
}

/// A decoded chunk.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chunk {
    pub(crate) steps: Vec<f64>,
    pub(crate) values: Points,
    pub(crate) timestamps: Vec<SystemTime>,
}

pub(crate) fn time_to_nanos(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos())
            .map(|n| -n)
            .unwrap_or(i64::MIN),
    }
}

pub(crate) fn nanos_to_time(nanos: i64) -> SystemTime {
    if nanos >= 0 {
        UNIX_EPOCH + Duration::from_nanos(nanos as u64)
    } else {
        UNIX_EPOCH - Duration::from_nanos(nanos.unsigned_abs())
    }
}

/// Whether `steps` are `first + i * delta` exactly, bit for bit.
fn arithmetic(steps: &[f64]) -> Option<(f64, f64)> {
    let (&first, rest) = steps.split_first()?;
    let delta = rest.first().map_or(1.0, |&second| second - first);
    steps
        .iter()
        .enumerate()
        .all(|(i, &s)| (first + i as f64 * delta).to_bits() == s.to_bits())
        .then_some((first, delta))
}

pub(crate) fn encode(chunk: &Chunk) -> Vec<u8> {
    let count = chunk.steps.len();
    debug_assert_eq!(count, chunk.values.len());
    debug_assert_eq!(count, chunk.timestamps.len());
    let mut out = Vec::with_capacity(16 + count * 24);
    out.push(FORMAT);
    out.push(chunk.values.kind());
    out.extend_from_slice(&(count as u32).to_le_bytes());
    match arithmetic(&chunk.steps) {
        Some((first, delta)) => {
            out.push(1);
            out.extend_from_slice(&first.to_le_bytes());
            out.extend_from_slice(&delta.to_le_bytes());
        }
        None => {
            out.push(0);
            for step in &chunk.steps {
                out.extend_from_slice(&step.to_le_bytes());
            }
        }
    }
    match &chunk.values {
        Points::Float(values) => {
            for v in values {
                out.extend_from_slice(&v.to_bits().to_le_bytes());
            }
        }
        Points::String(values) => {
            for v in values {
                out.extend_from_slice(&(v.len() as u32).to_le_bytes());
                out.extend_from_slice(v.as_bytes());
            }
        }
        Points::File(files) => {
            for f in files {
                out.extend_from_slice(&f.sha256);
                out.extend_from_slice(&(f.name.len() as u32).to_le_bytes());
                out.extend_from_slice(f.name.as_bytes());
                out.extend_from_slice(&f.size.to_le_bytes());
            }
        }
    }
    let mut previous = 0i64;
    for (i, t) in chunk.timestamps.iter().enumerate() {
        let nanos = time_to_nanos(*t);
        let written = if i == 0 {
            nanos
        } else {
            nanos.wrapping_sub(previous)
        };
        let mut buf = [0u8; 10];
        let len = written.encode_var(&mut buf);
        out.extend_from_slice(&buf[..len]);
        previous = nanos;
    }
    out
}

/// Reads little-endian numbers off a byte slice; `None` when it runs out.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.array()?))
    }
    fn f64(&mut self) -> Option<f64> {
        Some(f64::from_bits(self.u64()?))
    }
    fn varint(&mut self) -> Option<i64> {
        let (value, len) = i64::decode_var(self.0)?;
        self.0 = self.0.get(len..)?;
        Some(value)
    }
    fn string(&mut self) -> Option<String> {
        let len = self.u32()? as usize;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }
}

/// Decodes a chunk; `None` for bytes that are not a chunk of this format
/// (a corrupt store), which the caller reports as a storage error.
pub(crate) fn decode(bytes: &[u8]) -> Option<Chunk> {
    let mut r = Reader(bytes);
    if r.u8()? != FORMAT {
        return None;
    }
    let kind = r.u8()?;
    let count = r.u32()? as usize;
    // Every point takes at least one byte (its timestamp): a count larger
    // than the blob allows is corruption, not a reason to allocate.
    if count > bytes.len() {
        return None;
    }
    let steps = match r.u8()? {
        0 => (0..count).map(|_| r.f64()).collect::<Option<Vec<_>>>()?,
        1 => {
            let first = r.f64()?;
            let delta = r.f64()?;
            (0..count).map(|i| first + i as f64 * delta).collect()
        }
        _ => return None,
    };
    let values = match kind {
        0 => Points::Float((0..count).map(|_| r.f64()).collect::<Option<_>>()?),
        1 => Points::String((0..count).map(|_| r.string()).collect::<Option<_>>()?),
        2 => Points::File(
            (0..count)
                .map(|_| {
                    Some(StoredFile {
                        sha256: r.array()?,
                        name: r.string()?,
                        size: r.u64()?,
                    })
                })
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    };
    let mut timestamps = Vec::with_capacity(count);
    let mut previous = 0i64;
    for i in 0..count {
        let read = r.varint()?;
        let nanos = if i == 0 {
            read
        } else {
            previous.wrapping_add(read)
        };
        timestamps.push(nanos_to_time(nanos));
        previous = nanos;
    }
    if !r.0.is_empty() {
        return None;
    }
    Some(Chunk {
        steps,
        values,
        timestamps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(n: usize) -> Vec<SystemTime> {
        (0..n)
            .map(|i| UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_000 + i as u64 * 7))
            .collect()
    }

    #[test]
    fn floats_round_trip_bit_for_bit() {
        let values = vec![
            0.5,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            f64::from_bits(0x7ff8_dead_beef_0001),
        ];
        let chunk = Chunk {
            steps: (0..values.len()).map(|i| i as f64).collect(),
            timestamps: times(values.len()),
            values: Points::Float(values.clone()),
        };
        let bytes = encode(&chunk);
        let back = decode(&bytes).unwrap();
        let Points::Float(read) = &back.values else {
            panic!()
        };
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(read), bits(&values));
        assert_eq!(back.steps, chunk.steps);
        assert_eq!(back.timestamps, chunk.timestamps);
        // Arithmetic steps take 16 bytes, not 8 per point; of the
        // timestamps (7 ns apart) the first takes 9 bytes, the others 1.
        assert_eq!(
            bytes.len(),
            2 + 4 + 1 + 16 + 8 * values.len() + 9 + (values.len() - 1)
        );
    }

    #[test]
    fn irregular_steps_and_strings_round_trip() {
        let chunk = Chunk {
            steps: vec![0.5, 2.0, 1e300],
            timestamps: vec![UNIX_EPOCH - Duration::from_secs(5), UNIX_EPOCH, times(1)[0]],
            values: Points::String(vec!["".into(), "é\n".into(), "x".repeat(1000)]),
        };
        assert_eq!(decode(&encode(&chunk)).unwrap(), chunk);
    }

    #[test]
    fn files_round_trip() {
        let chunk = Chunk {
            steps: vec![3.0],
            timestamps: times(1),
            values: Points::File(vec![StoredFile {
                sha256: [7; 32],
                name: "a.png".into(),
                size: 42,
            }]),
        };
        assert_eq!(decode(&encode(&chunk)).unwrap(), chunk);
    }

    #[test]
    fn corrupt_bytes_are_refused_without_panic() {
        let chunk = Chunk {
            steps: vec![0.0, 1.0],
            timestamps: times(2),
            values: Points::Float(vec![1.0, 2.0]),
        };
        let bytes = encode(&chunk);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_none(), "cut at {cut}");
        }
        let mut wrong = bytes.clone();
        wrong[0] = 99;
        assert!(decode(&wrong).is_none());
        let mut huge = bytes;
        huge[2..6].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge).is_none());
    }
}
