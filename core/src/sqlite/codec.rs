//! How a chunk of series points is laid out in one BLOB.
//!
//! A series is stored as chunks of many points, each chunk one row. A
//! chunk is columnar: all steps, then all values, then all timestamps, so
//! that the common shapes stay small and the bytes read back exactly:
//!
//! ```text
//! u8   format (2; 1 is the same without the checksum)
//! u8   kind: 0 float, 1 string, 2 file
//! u32  count (little-endian, as every number below)
//! u8   steps: 0 = count × f64, 1 = arithmetic: first f64, delta f64
//! ...  values: float: count × f64 bits; string: count × (u32 len, UTF-8);
//!      file: count × (32-byte SHA-256, u32 name len, name, u64 size)
//! var  timestamps: ns since the Unix epoch, the first one, then the
//!      difference to the one before, each a zigzag varint (a point logged
//!      in the same clock tick as the last costs one byte)
//! u32  CRC-32C (Castagnoli) of the chunk's owner (the store's number of
//!      its series, 8 bytes) followed by every byte before it
//! ```
//!
//! The checksum makes damage that SQLite's own checks cannot see (a byte
//! of a value flipped on disk, or a chunk that came to belong to another
//! series) an error when the chunk is read, and lets `hippocamp check`
//! find it. Chunks of format 1 (stores made before
//! checksums) are rewritten with one when the store is migrated.
//!
//! Floats are stored as their bits, so NaN payloads, ±Inf and -0.0 come
//! back as they went in (a SQLite REAL would turn NaN into NULL).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::value::FileInfo;

use integer_encoding::VarInt;

/// The format chunks are written in.
pub(crate) const FORMAT: u8 = 2;
/// The format before checksums, still read.
const FORMAT_WITHOUT_CHECKSUM: u8 = 1;

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

    /// Moves `other`'s values after these when both are of one kind;
    /// `false` (and nothing moved) when they are not.
    pub(crate) fn append(&mut self, other: &mut Points) -> bool {
        match (self, other) {
            (Points::Float(a), Points::Float(b)) => a.append(b),
            (Points::String(a), Points::String(b)) => a.append(b),
            (Points::File(a), Points::File(b)) => a.append(b),
            _ => return false,
        }
        true
    }

    /// Removes the first `n` values.
    pub(crate) fn drain_front(&mut self, n: usize) {
        match self {
            Points::Float(v) => drop(v.drain(..n)),
            Points::String(v) => drop(v.drain(..n)),
            Points::File(v) => drop(v.drain(..n)),
        }
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

/// Encodes a chunk of the series `owner` (its field row).
pub(crate) fn encode(chunk: &Chunk, owner: i64) -> Vec<u8> {
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
    let crc = checksum(owner, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn checksum(owner: i64, body: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&owner.to_le_bytes()), body)
}

/// Why stored bytes are not a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Damage {
    /// The checksum does not match the bytes: they changed after writing.
    Checksum { stored: u32, computed: u32 },
    /// The bytes do not follow the format (cut short, or a count or kind
    /// that cannot be).
    Malformed,
    /// The chunk is whole but disagrees with its row (steps or count).
    Row(String),
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Checksum { stored, computed } => write!(
                f,
                "checksum mismatch (stored CRC-32C {stored:08x}, computed {computed:08x})"
            ),
            Damage::Malformed => f.write_str("not a chunk of points (cut short or garbled)"),
            Damage::Row(detail) => f.write_str(detail),
        }
    }
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

/// Decodes a chunk of the series `owner`, verifying its checksum; the
/// error says what is wrong, for the caller to report with the run and
/// path.
pub(crate) fn decode(bytes: &[u8], owner: i64) -> Result<Chunk, Damage> {
    let body = match bytes.first() {
        Some(&FORMAT) => {
            let split = bytes.len().checked_sub(4).ok_or(Damage::Malformed)?;
            let (body, crc) = bytes.split_at(split);
            let stored = u32::from_le_bytes(crc.try_into().map_err(|_| Damage::Malformed)?);
            let computed = checksum(owner, body);
            if stored != computed {
                return Err(Damage::Checksum { stored, computed });
            }
            body
        }
        Some(&FORMAT_WITHOUT_CHECKSUM) => bytes,
        _ => return Err(Damage::Malformed),
    };
    decode_body(body).ok_or(Damage::Malformed)
}

/// Checks a decoded chunk against the columns of its row.
pub(crate) fn check_row(
    chunk: &Chunk,
    first_step: f64,
    last_step: f64,
    count: i64,
) -> Result<(), Damage> {
    let (Some(&first), Some(&last)) = (chunk.steps.first(), chunk.steps.last()) else {
        return Err(Damage::Row("a chunk without points".into()));
    };
    if first.to_bits() != first_step.to_bits() || last.to_bits() != last_step.to_bits() {
        return Err(Damage::Row(format!(
            "its row says steps {first_step} to {last_step}, its points are at {first} to {last}"
        )));
    }
    if count != chunk.steps.len() as i64 {
        return Err(Damage::Row(format!(
            "its row says {count} points, it holds {}",
            chunk.steps.len()
        )));
    }
    if chunk
        .steps
        .windows(2)
        .any(|w| w[0] >= w[1] || w[0].is_nan() || w[1].is_nan())
    {
        return Err(Damage::Row("its steps do not strictly increase".into()));
    }
    Ok(())
}

/// Points per block of a chunk's summary: a wide range of a series is
/// bucketed from its blocks' summaries without decoding a point, as long
/// as its buckets are wider than a block.
pub(crate) const BLOCK_POINTS: usize = 256;

/// The summary of a block of a FloatSeries chunk's points (at most
/// [`BLOCK_POINTS`] of them): what a bucket needs of them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BlockSummary {
    pub(crate) first_step: f64,
    pub(crate) last_step: f64,
    pub(crate) count: u32,
    pub(crate) first_time: SystemTime,
    pub(crate) last_time: SystemTime,
    pub(crate) first: f64,
    pub(crate) last: f64,
    /// The smallest and largest value other than NaN, if there is one.
    pub(crate) min_max: Option<(f64, f64)>,
}

impl BlockSummary {
    /// The bucket of the block's points.
    pub(crate) fn bucket(&self) -> crate::window::Bucket {
        let point = |step, value, timestamp| crate::value::Point {
            step,
            value: crate::value::Value::Float(value),
            timestamp,
        };
        crate::window::Bucket {
            from: self.first_step,
            to: self.last_step,
            count: u64::from(self.count),
            first: point(self.first_step, self.first, self.first_time),
            last: point(self.last_step, self.last, self.last_time),
            min: self.min_max.map(|m| m.0),
            max: self.min_max.map(|m| m.1),
        }
    }
}

/// The summary of a FloatSeries chunk, block by block; `None` for other
/// series (their windows are read from their points).
pub(crate) fn summarize(chunk: &Chunk) -> Option<Vec<BlockSummary>> {
    let Points::Float(values) = &chunk.values else {
        return None;
    };
    let mut blocks = Vec::with_capacity(values.len().div_ceil(BLOCK_POINTS));
    for start in (0..values.len()).step_by(BLOCK_POINTS) {
        let end = (start + BLOCK_POINTS).min(values.len());
        let part = &values[start..end];
        let mut min_max: Option<(f64, f64)> = None;
        for &x in part.iter().filter(|x| !x.is_nan()) {
            min_max = Some(match min_max {
                None => (x, x),
                Some((lo, hi)) => (if x < lo { x } else { lo }, if x > hi { x } else { hi }),
            });
        }
        blocks.push(BlockSummary {
            first_step: chunk.steps[start],
            last_step: chunk.steps[end - 1],
            count: (end - start) as u32,
            first_time: chunk.timestamps[start],
            last_time: chunk.timestamps[end - 1],
            first: part[0],
            last: part[part.len() - 1],
            min_max,
        });
    }
    Some(blocks)
}

/// The format of a chunk's summary column.
const SUMMARY_FORMAT: u8 = 1;

/// A chunk's summary as stored beside it: `u8` format, `u32` blocks, per
/// block first and last step (`f64`), count (`u32`), first and last time
/// (ns, `i64`), first and last value, minimum and maximum (`f64` bits; the
/// last two NaN when every value is), then a CRC-32C of the series and
/// every byte before it, as in a chunk.
pub(crate) fn encode_summary(blocks: &[BlockSummary], owner: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(9 + blocks.len() * 64);
    out.push(SUMMARY_FORMAT);
    out.extend_from_slice(&(blocks.len() as u32).to_le_bytes());
    for b in blocks {
        out.extend_from_slice(&b.first_step.to_le_bytes());
        out.extend_from_slice(&b.last_step.to_le_bytes());
        out.extend_from_slice(&b.count.to_le_bytes());
        out.extend_from_slice(&time_to_nanos(b.first_time).to_le_bytes());
        out.extend_from_slice(&time_to_nanos(b.last_time).to_le_bytes());
        let (min, max) = b.min_max.unwrap_or((f64::NAN, f64::NAN));
        for x in [b.first, b.last, min, max] {
            out.extend_from_slice(&x.to_bits().to_le_bytes());
        }
    }
    let crc = checksum(owner, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Reads a summary column of the series `owner`, checking its checksum.
pub(crate) fn decode_summary(bytes: &[u8], owner: i64) -> Result<Vec<BlockSummary>, Damage> {
    let split = bytes.len().checked_sub(4).ok_or(Damage::Malformed)?;
    let (body, crc) = bytes.split_at(split);
    let stored = u32::from_le_bytes(crc.try_into().map_err(|_| Damage::Malformed)?);
    let computed = checksum(owner, body);
    if stored != computed {
        return Err(Damage::Checksum { stored, computed });
    }
    let mut r = Reader(body);
    if r.u8().ok_or(Damage::Malformed)? != SUMMARY_FORMAT {
        return Err(Damage::Malformed);
    }
    let n = r.u32().ok_or(Damage::Malformed)? as usize;
    if n > body.len() {
        return Err(Damage::Malformed);
    }
    let mut blocks = Vec::with_capacity(n);
    for _ in 0..n {
        let block = (|| {
            let first_step = r.f64()?;
            let last_step = r.f64()?;
            let count = r.u32()?;
            let first_time = nanos_to_time(r.u64()? as i64);
            let last_time = nanos_to_time(r.u64()? as i64);
            let (first, last, min, max) = (r.f64()?, r.f64()?, r.f64()?, r.f64()?);
            Some(BlockSummary {
                first_step,
                last_step,
                count,
                first_time,
                last_time,
                first,
                last,
                min_max: (!min.is_nan()).then_some((min, max)),
            })
        })()
        .ok_or(Damage::Malformed)?;
        blocks.push(block);
    }
    if !r.0.is_empty() {
        return Err(Damage::Malformed);
    }
    Ok(blocks)
}

/// Checks a decoded summary against its chunk's row.
pub(crate) fn check_summary_row(
    blocks: &[BlockSummary],
    first_step: f64,
    last_step: f64,
    count: i64,
) -> Result<(), Damage> {
    let total: u64 = blocks.iter().map(|b| u64::from(b.count)).sum();
    let (Some(first), Some(last)) = (blocks.first(), blocks.last()) else {
        return Err(Damage::Row("a summary without blocks".into()));
    };
    if total != count.max(0) as u64
        || first.first_step.to_bits() != first_step.to_bits()
        || last.last_step.to_bits() != last_step.to_bits()
    {
        return Err(Damage::Row(
            "its summary disagrees with its row (steps or count)".into(),
        ));
    }
    Ok(())
}

/// The migration to schema 3: a summary beside every FloatSeries chunk.
/// A chunk that cannot be decoded gets none (reading it is an error).
pub(crate) fn add_summaries(
    tx: &rusqlite::Transaction<'_>,
) -> Result<(), crate::error::StorageError> {
    let fail = |e| super::sql_error("cannot add summaries to the series chunks", e);
    let chunks: Vec<(i64, i64)> = tx
        .prepare(
            "SELECT c.chunk, c.field FROM chunks c JOIN fields f USING (field)
             WHERE f.type = 'FloatSeries'",
        )
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(fail)?;
    let mut read = tx
        .prepare("SELECT data FROM chunks WHERE chunk = ?1")
        .map_err(fail)?;
    let mut write = tx
        .prepare("UPDATE chunks SET summary = ?1 WHERE chunk = ?2")
        .map_err(fail)?;
    for (chunk, field) in chunks {
        let data: Vec<u8> = read.query_row([chunk], |r| r.get(0)).map_err(fail)?;
        if let Some(blocks) = decode(&data, field).ok().and_then(|c| summarize(&c)) {
            write
                .execute(rusqlite::params![encode_summary(&blocks, field), chunk])
                .map_err(fail)?;
        }
    }
    Ok(())
}

/// The CRC-32C of a field row's contents: which run and path it is, its
/// type, its value columns and a set's items (sorted). Stored beside them,
/// so that a changed byte in a parameter's value is an error when read, as
/// in a chunk.
pub(crate) fn field_crc(run: i64, row: &super::writer::FieldRow<'_>, items: &[String]) -> i64 {
    let mut bytes = Vec::with_capacity(64 + row.path.len() + row.text_value.map_or(0, str::len));
    bytes.extend_from_slice(&run.to_le_bytes());
    // Each text with its length, each number after a presence byte: no
    // two different rows encode alike.
    let mut text = |t: Option<&str>| match t {
        Some(t) => {
            bytes.push(1);
            bytes.extend_from_slice(&(t.len() as u64).to_le_bytes());
            bytes.extend_from_slice(t.as_bytes());
        }
        None => bytes.push(0),
    };
    text(Some(row.path));
    text(Some(row.field_type));
    text(row.text_value);
    text(row.file_sha);
    for item in items {
        text(Some(item));
    }
    for number in [row.int_value, row.file_size] {
        match number {
            Some(n) => {
                bytes.push(1);
                bytes.extend_from_slice(&n.to_le_bytes());
            }
            None => bytes.push(0),
        }
    }
    i64::from(crc32c::crc32c(&bytes))
}

/// The CRC-32C of a run row: its number, id, project and creation time
/// (its heartbeat changes all the time and is left out).
pub(crate) fn run_crc(run: i64, id: &str, project: &str, created_ns: i64) -> i64 {
    let mut bytes = Vec::with_capacity(32 + id.len() + project.len());
    bytes.extend_from_slice(&run.to_le_bytes());
    for text in [id, project] {
        bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
        bytes.extend_from_slice(text.as_bytes());
    }
    bytes.extend_from_slice(&created_ns.to_le_bytes());
    i64::from(crc32c::crc32c(&bytes))
}

/// Stores the checksum of run row `run` (see [`run_crc`]).
pub(crate) fn seal_run(
    conn: &rusqlite::Connection,
    run: i64,
) -> Result<(), crate::error::StorageError> {
    let fail = |e| super::sql_error("cannot seal a run", e);
    conn.prepare_cached("UPDATE runs SET crc = ?2 WHERE run = ?1")
        .and_then(|mut update| {
            let crc = conn.query_row(
                "SELECT id, project, created_ns FROM runs WHERE run = ?1",
                [run],
                |r| {
                    Ok(run_crc(
                        run,
                        r.get_ref(0)?.as_str()?,
                        r.get_ref(1)?.as_str()?,
                        r.get(2)?,
                    ))
                },
            )?;
            update.execute(rusqlite::params![run, crc])
        })
        .map_err(fail)?;
    Ok(())
}

/// Whether a run row's stored checksum matches it (a row without one,
/// written before checksums, passes).
pub(crate) fn run_intact(
    run: i64,
    id: &str,
    project: &str,
    created_ns: i64,
    crc: Option<i64>,
) -> bool {
    crc.is_none_or(|crc| crc == run_crc(run, id, project, created_ns))
}

/// The migration to schema 2: every run and field row gets its checksum, every
/// chunk of format 1 is written again with one. A chunk that cannot be
/// decoded is left as it is (reading it is an error, and `hippocamp
/// check` reports it).
pub(crate) fn add_checksums(
    tx: &rusqlite::Transaction<'_>,
) -> Result<(), crate::error::StorageError> {
    let fail = |e| super::sql_error("cannot add checksums to the series chunks", e);
    let fields: Vec<i64> = tx
        .prepare("SELECT field FROM fields")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(fail)?;
    for field in fields {
        super::writer::seal_field(tx, field)?;
    }
    let runs: Vec<i64> = tx
        .prepare("SELECT run FROM runs")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(fail)?;
    for run in runs {
        seal_run(tx, run)?;
    }
    let chunks: Vec<(i64, i64)> = tx
        .prepare("SELECT chunk, field FROM chunks")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(fail)?;
    let mut read = tx
        .prepare("SELECT data FROM chunks WHERE chunk = ?1")
        .map_err(fail)?;
    let mut write = tx
        .prepare("UPDATE chunks SET data = ?1 WHERE chunk = ?2")
        .map_err(fail)?;
    for (chunk, field) in chunks {
        let data: Vec<u8> = read.query_row([chunk], |r| r.get(0)).map_err(fail)?;
        if data.first() != Some(&FORMAT_WITHOUT_CHECKSUM) {
            continue;
        }
        if let Some(decoded) = decode_body(&data) {
            write
                .execute(rusqlite::params![encode(&decoded, field), chunk])
                .map_err(fail)?;
        }
    }
    Ok(())
}

/// Decodes the bytes of a chunk without its checksum.
fn decode_body(bytes: &[u8]) -> Option<Chunk> {
    let mut r = Reader(bytes);
    if !matches!(r.u8()?, FORMAT | FORMAT_WITHOUT_CHECKSUM) {
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
        let bytes = encode(&chunk, 7);
        let back = decode(&bytes, 7).unwrap();
        let Points::Float(read) = &back.values else {
            panic!()
        };
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(read), bits(&values));
        assert_eq!(back.steps, chunk.steps);
        assert_eq!(back.timestamps, chunk.timestamps);
        // Arithmetic steps take 16 bytes, not 8 per point; of the
        // timestamps (7 ns apart) the first takes 9 bytes, the others 1;
        // then 4 bytes of checksum.
        assert_eq!(
            bytes.len(),
            2 + 4 + 1 + 16 + 8 * values.len() + 9 + (values.len() - 1) + 4
        );
    }

    #[test]
    fn irregular_steps_and_strings_round_trip() {
        let chunk = Chunk {
            steps: vec![0.5, 2.0, 1e300],
            timestamps: vec![UNIX_EPOCH - Duration::from_secs(5), UNIX_EPOCH, times(1)[0]],
            values: Points::String(vec!["".into(), "é\n".into(), "x".repeat(1000)]),
        };
        assert_eq!(decode(&encode(&chunk, 7), 7).unwrap(), chunk);
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
        assert_eq!(decode(&encode(&chunk, 7), 7).unwrap(), chunk);
    }

    #[test]
    fn corrupt_bytes_are_refused_without_panic() {
        let chunk = Chunk {
            steps: vec![0.0, 1.0],
            timestamps: times(2),
            values: Points::Float(vec![1.0, 2.0]),
        };
        let bytes = encode(&chunk, 7);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut], 7).is_err(), "cut at {cut}");
        }
        let mut wrong = bytes.clone();
        wrong[0] = 99;
        assert!(decode(&wrong, 7).is_err());
        let mut huge = bytes;
        huge[2..6].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge, 7).is_err());
    }

    #[test]
    fn every_flipped_byte_is_caught_by_the_checksum() {
        let chunk = Chunk {
            steps: vec![0.0, 1.0, 2.5],
            timestamps: times(3),
            values: Points::Float(vec![0.000124, -1.0, f64::NAN]),
        };
        let bytes = encode(&chunk, 7);
        for at in 0..bytes.len() {
            for bit in 0..8 {
                let mut flipped = bytes.clone();
                flipped[at] ^= 1 << bit;
                assert!(
                    decode(&flipped, 7).is_err(),
                    "byte {at} bit {bit} flipped went unnoticed"
                );
            }
        }
        let mut value = bytes.clone();
        value[2 + 4 + 1 + 24] ^= 0x40;
        assert!(matches!(decode(&value, 7), Err(Damage::Checksum { .. })));
        // The same bytes as a chunk of another series: refused too.
        assert!(matches!(decode(&bytes, 8), Err(Damage::Checksum { .. })));
    }

    #[test]
    fn chunks_without_a_checksum_still_read() {
        let chunk = Chunk {
            steps: vec![3.0, 4.0],
            timestamps: times(2),
            values: Points::String(vec!["a".into(), "b".into()]),
        };
        let mut legacy = encode(&chunk, 7);
        legacy.truncate(legacy.len() - 4);
        legacy[0] = FORMAT_WITHOUT_CHECKSUM;
        assert_eq!(decode(&legacy, 7).unwrap(), chunk);
    }

    #[test]
    fn a_chunk_must_agree_with_its_row() {
        let chunk = Chunk {
            steps: vec![1.0, 2.0],
            timestamps: times(2),
            values: Points::Float(vec![1.0, 2.0]),
        };
        assert!(check_row(&chunk, 1.0, 2.0, 2).is_ok());
        assert!(matches!(
            check_row(&chunk, 1.0, 3.0, 2),
            Err(Damage::Row(_))
        ));
        assert!(matches!(
            check_row(&chunk, 1.0, 2.0, 3),
            Err(Damage::Row(_))
        ));
    }
}
