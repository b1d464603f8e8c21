//! The durable command journal: a directory of segment files holding
//! CRC-checked records, written by [`JournalWriter`] and read back by
//! [`JournalReader`]; [`recover`] rebuilds an engine from the newest valid
//! snapshot plus the journal records after it.
//!
//! # Directory
//!
//! Segment files are named `NNNNNNNNNNNNNNNNNNNN.journal`, the 20-digit,
//! zero-padded seq of the segment's first record, so that sorting the names
//! sorts the segments. Other files are ignored (snapshots, `snapshot-*.snap`,
//! may share the directory; `journal.lock` is the writer's lock file;
//! `*.journal.tmp` is a segment being created and is removed by the writer).
//!
//! # Segment header (36 bytes, little-endian)
//!
//! | offset | field | |
//! | --- | --- | --- |
//! | 0 | magic `[u8; 8]` | `b"PYENGJNL"` |
//! | 8 | version `u16` | [`FORMAT_VERSION`] (1) |
//! | 10 | flags `u16` | 0 (reserved) |
//! | 12 | reserved `u32` | 0 |
//! | 16 | first record seq `u64` | equals the file name |
//! | 24 | segment number `u64` | previous segment's + 1 |
//! | 32 | CRC32C `u32` | over bytes 0..32 |
//!
//! A segment is created atomically (header written to `<name>.tmp`, fsync,
//! rename, fsync of the directory), so a segment file always has a complete
//! header; a segment may hold no record (a crash right after a rollover).
//!
//! # Records
//!
//! `len u32 | crc32c u32 | seq u64 | ts u64 | payload[len]` (24-byte header),
//! the CRC32C covering `seq`, `ts` and the payload. Record seqs are consecutive
//! across segments (1, 2, 3, ... unless the journal was started at another
//! seq): the *journal* seq, distinct from the engine's event seq. `ts` is the
//! timestamp the entry is applied with.
//!
//! The payload is one of:
//!
//! * `len == 64`: a command record, exactly as [`crate::records::encode_command`]
//!   writes it (its own `ts` field equals the record's `ts`).
//! * `len != 64`, `8 <= len <=` [`MAX_PAYLOAD`]: an admin record
//!
//!   | offset | field | |
//!   | --- | --- | --- |
//!   | 0 | kind `u8` | 1 = add instrument, 2 = add account |
//!   | 1 | reserved `u8` | 0 |
//!   | 2 | name length `u16` | at most [`MAX_NAME_BYTES`] |
//!   | 4 | id `u32` | the instrument / account id the registration must get |
//!   | 8 | (instrument only) tick_size `i64`, lot_size `u64`, min_qty `u64`, max_qty `u64`, price_band `i64` (0 = none) | |
//!   | 8 or 48 | name (symbol / account name), UTF-8 | |
//!
//!   followed by one zero byte if and only if the admin record would
//!   otherwise be exactly 64 bytes long, so that the length alone tells a
//!   command record from an admin record.
//!
//! Account ids are dense and assigned by `Engine::account_id(name)` on first
//! use, and submit commands carry the numeric id, so a journal must register
//! every instrument and account (with the id it got) before the first command
//! that uses it; replay checks that it gets the same ids.
//!
//! # Damage
//!
//! The reader validates every header and every record CRC and never skips
//! anything. A *torn tail* — in the last segment only, a final record that is
//! incomplete, or whose CRC fails with nothing but zero bytes after it, or a
//! zero-filled remainder — is what a crash during an append leaves; the
//! reader reports it as [`JournalError::TornTail`] and the writer truncates
//! it when it opens the journal. Any other damage is
//! [`JournalError::Corrupt`], naming the segment file and the byte offset.
//!
//! The torn-tail rule cannot tell a crash from a bit flip in the length field
//! of one of the last records that makes it point past the end of the file;
//! such damage (confined to the last [`MAX_PAYLOAD`] + 24 bytes) is truncated
//! like a torn tail. Everywhere else a flipped length fails the CRC or the
//! length check and is reported.

mod reader;
mod recovery;
mod writer;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::command::Command;
use crate::engine::Engine;
use crate::event::Event;
use crate::instrument::{InstrumentSpec, SpecError};
use crate::records::{decode_command, COMMAND_RECORD_SIZE};
use crate::types::{AccountId, InstrumentId, Timestamp};

pub use reader::JournalReader;
pub use recovery::{recover, recover_and_open, recover_report, Recovery, RecoveryError};
pub use writer::{FsyncPolicy, JournalOptions, JournalWriter, OpenReport, SyncTicket};

/// Magic bytes at the start of every segment file.
pub const SEGMENT_MAGIC: [u8; 8] = *b"PYENGJNL";
/// The segment format version this code reads and writes.
pub const FORMAT_VERSION: u16 = 1;
/// Size of the segment header.
pub const SEGMENT_HEADER_SIZE: usize = 36;
/// Size of the record header (`len | crc | seq | ts`).
pub const RECORD_HEADER_SIZE: usize = 24;
/// Longest instrument symbol or account name an admin record carries.
pub const MAX_NAME_BYTES: usize = 1024;
/// Shortest payload (an add-account record with an empty name).
pub const MIN_PAYLOAD: usize = 8;
/// Longest payload (an add-instrument record with the longest symbol, padded).
pub const MAX_PAYLOAD: usize = INSTRUMENT_FIXED + MAX_NAME_BYTES + 1;

const KIND_ADD_INSTRUMENT: u8 = 1;
const KIND_ADD_ACCOUNT: u8 = 2;
const INSTRUMENT_FIXED: usize = 48;
const ACCOUNT_FIXED: usize = 8;

/// Offsets of the segment header fields (reported in errors).
pub(crate) mod field {
    pub const MAGIC: u64 = 0;
    pub const VERSION: u64 = 8;
    pub const FLAGS: u64 = 10;
    pub const FIRST_SEQ: u64 = 16;
    pub const SEGMENT_NO: u64 = 24;
    pub const CRC: u64 = 32;
}

/// One journal entry: a command or a registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Command(Command),
    /// `Engine::add_instrument(spec)`, which must return `id`.
    AddInstrument {
        id: InstrumentId,
        spec: InstrumentSpec,
    },
    /// `Engine::account_id(name)`, which must return `id`.
    AddAccount {
        id: AccountId,
        name: String,
    },
}

/// One record read back from the journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalRecord {
    /// Journal record seq.
    pub seq: u64,
    pub ts: Timestamp,
    pub entry: Entry,
}

/// A journal entry that does not apply to the engine the way it did when it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyError {
    /// The instrument spec is refused (duplicate symbol, invalid spec).
    Instrument(SpecError),
    /// Registration gave another id than the journal recorded.
    InstrumentId {
        expected: InstrumentId,
        got: InstrumentId,
    },
    /// The account got another id than the journal recorded.
    AccountId {
        name: String,
        expected: AccountId,
        got: AccountId,
    },
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyError::Instrument(e) => write!(f, "instrument registration refused: {e}"),
            ApplyError::InstrumentId { expected, got } => write!(
                f,
                "instrument registered as id {got}, the journal recorded id {expected}"
            ),
            ApplyError::AccountId {
                name,
                expected,
                got,
            } => write!(
                f,
                "account {name:?} has id {got}, the journal recorded id {expected}"
            ),
        }
    }
}

impl std::error::Error for ApplyError {}

impl Entry {
    /// Applies this entry to `engine` at time `ts`; command events are appended to `out`.
    pub fn apply(
        &self,
        ts: Timestamp,
        engine: &mut Engine,
        out: &mut Vec<Event>,
    ) -> Result<(), ApplyError> {
        match self {
            Entry::Command(cmd) => {
                engine.process(ts, cmd, out);
                Ok(())
            }
            Entry::AddInstrument { id, spec } => {
                let got = engine
                    .add_instrument(spec.clone())
                    .map_err(ApplyError::Instrument)?;
                if got != *id {
                    return Err(ApplyError::InstrumentId { expected: *id, got });
                }
                Ok(())
            }
            Entry::AddAccount { id, name } => {
                let got = engine.account_id(name);
                if got != *id {
                    return Err(ApplyError::AccountId {
                        name: name.clone(),
                        expected: *id,
                        got,
                    });
                }
                Ok(())
            }
        }
    }
}

/// What is wrong at a place in a segment file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The segment file has no bytes at all.
    EmptySegment,
    /// The file is shorter than a segment header.
    TruncatedHeader {
        len: u64,
    },
    BadMagic,
    UnsupportedVersion(u16),
    BadHeaderCrc {
        stored: u32,
        computed: u32,
    },
    /// A reserved header field is not zero.
    BadHeaderField(&'static str),
    /// The header's first seq differs from the seq in the file name.
    NameMismatch {
        name_seq: u64,
        header_seq: u64,
    },
    /// The segment number does not follow the previous segment's.
    SegmentNumber {
        expected: u64,
        found: u64,
    },
    /// The segment's first seq does not follow the previous segment's last record
    /// (a missing segment, or a misplaced one).
    Gap {
        expected: u64,
        found: u64,
    },
    /// A record runs past the end of the file.
    TruncatedRecord {
        need: u64,
        have: u64,
    },
    /// A record length no record can have.
    BadLength(u32),
    BadRecordCrc {
        stored: u32,
        computed: u32,
    },
    /// A record seq is not the previous one + 1.
    SeqMismatch {
        expected: u64,
        found: u64,
    },
    /// The CRC holds but the payload does not decode.
    BadPayload(String),
    /// A record seq below the first record the caller asked for is all the journal has.
    Missing {
        requested: u64,
        first_available: u64,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::EmptySegment => write!(f, "empty segment file (no header)"),
            Problem::TruncatedHeader { len } => write!(
                f,
                "truncated segment header ({len} of {SEGMENT_HEADER_SIZE} bytes)"
            ),
            Problem::BadMagic => write!(f, "bad magic (not a journal segment)"),
            Problem::UnsupportedVersion(v) => write!(
                f,
                "unsupported format version {v} (this build reads {FORMAT_VERSION})"
            ),
            Problem::BadHeaderCrc { stored, computed } => write!(
                f,
                "segment header CRC mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            Problem::BadHeaderField(name) => write!(f, "reserved header field {name} is not zero"),
            Problem::NameMismatch {
                name_seq,
                header_seq,
            } => write!(
                f,
                "header says first seq {header_seq} but the file name says {name_seq}"
            ),
            Problem::SegmentNumber { expected, found } => {
                write!(f, "segment number {found}, expected {expected}")
            }
            Problem::Gap { expected, found } => write!(
                f,
                "segment starts at seq {found} but the previous segment ends before seq {expected} \
                 (missing or misplaced segment)"
            ),
            Problem::TruncatedRecord { need, have } => {
                write!(f, "record truncated ({have} of {need} bytes present)")
            }
            Problem::BadLength(len) => write!(f, "impossible record length {len}"),
            Problem::BadRecordCrc { stored, computed } => write!(
                f,
                "record CRC mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            Problem::SeqMismatch { expected, found } => {
                write!(f, "record seq {found}, expected {expected}")
            }
            Problem::BadPayload(why) => write!(f, "undecodable payload: {why}"),
            Problem::Missing {
                requested,
                first_available,
            } => write!(
                f,
                "record {requested} is not in the journal (its first record is {first_available})"
            ),
        }
    }
}

/// Why the journal cannot be read or opened.
#[derive(Debug)]
pub enum JournalError {
    /// An operating-system error on `path`.
    Io { path: PathBuf, source: io::Error },
    /// Damage that is not a torn tail: the journal needs an operator.
    Corrupt {
        segment: PathBuf,
        offset: u64,
        problem: Problem,
    },
    /// The last record of the last segment is incomplete or damaged (nothing
    /// valid follows it): what a crash during an append leaves. Opening a
    /// [`JournalWriter`] truncates the segment at `offset`.
    TornTail {
        segment: PathBuf,
        offset: u64,
        problem: Problem,
    },
}

impl JournalError {
    pub(crate) fn io(path: &Path, source: io::Error) -> JournalError {
        JournalError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether this is a torn tail (recoverable by truncation) rather than corruption.
    pub fn is_torn_tail(&self) -> bool {
        matches!(self, JournalError::TornTail { .. })
    }

    /// The segment file (or other path) the error is about.
    pub fn path(&self) -> &Path {
        match self {
            JournalError::Io { path, .. } => path,
            JournalError::Corrupt { segment, .. } | JournalError::TornTail { segment, .. } => {
                segment
            }
        }
    }

    /// The byte offset in the segment file, for damage.
    pub fn offset(&self) -> Option<u64> {
        match self {
            JournalError::Io { .. } => None,
            JournalError::Corrupt { offset, .. } | JournalError::TornTail { offset, .. } => {
                Some(*offset)
            }
        }
    }

    /// What is wrong, for damage.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            JournalError::Io { .. } => None,
            JournalError::Corrupt { problem, .. } | JournalError::TornTail { problem, .. } => {
                Some(problem)
            }
        }
    }
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::Io { path, source } => {
                write!(f, "journal I/O error on {}: {source}", path.display())
            }
            JournalError::Corrupt {
                segment,
                offset,
                problem,
            } => write!(
                f,
                "corrupt journal segment {} at byte offset {offset}: {problem}",
                segment.display()
            ),
            JournalError::TornTail {
                segment,
                offset,
                problem,
            } => write!(
                f,
                "torn tail in journal segment {} at byte offset {offset}: {problem} \
                 (opening the writer truncates it)",
                segment.display()
            ),
        }
    }
}

impl std::error::Error for JournalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JournalError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

// ---- codec -------------------------------------------------------------------

/// The file name of the segment whose first record is `first_seq`.
pub fn segment_file_name(first_seq: u64) -> String {
    format!("{first_seq:020}.journal")
}

/// The first seq named by a segment file name, if `name` is one.
/// `Some(Err(()))` for a 20-digit name that does not fit a u64.
fn parse_segment_name(name: &str) -> Option<Result<u64, ()>> {
    let digits = name.strip_suffix(".journal")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<u64>().map_err(|_| ()))
}

/// Segment files of `dir`, sorted by first seq (none if `dir` does not exist).
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, JournalError> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(JournalError::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| JournalError::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        match parse_segment_name(name) {
            None => {}
            Some(Ok(seq)) => out.push((seq, entry.path())),
            Some(Err(())) => {
                return Err(JournalError::Corrupt {
                    segment: entry.path(),
                    offset: 0,
                    problem: Problem::BadHeaderField("file name (seq out of range)"),
                })
            }
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// A parsed segment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SegmentHeader {
    pub first_seq: u64,
    pub segment_no: u64,
}

pub(crate) fn encode_segment_header(h: SegmentHeader) -> [u8; SEGMENT_HEADER_SIZE] {
    let mut b = [0u8; SEGMENT_HEADER_SIZE];
    b[0..8].copy_from_slice(&SEGMENT_MAGIC);
    b[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    b[16..24].copy_from_slice(&h.first_seq.to_le_bytes());
    b[24..32].copy_from_slice(&h.segment_no.to_le_bytes());
    let crc = crc32c::crc32c(&b[..32]);
    b[32..36].copy_from_slice(&crc.to_le_bytes());
    b
}

/// Parses a header; `Err((offset, problem))` names the field at fault.
pub(crate) fn decode_segment_header(
    b: &[u8; SEGMENT_HEADER_SIZE],
) -> Result<SegmentHeader, (u64, Problem)> {
    if b[0..8] != SEGMENT_MAGIC {
        return Err((field::MAGIC, Problem::BadMagic));
    }
    let version = u16::from_le_bytes([b[8], b[9]]);
    if version != FORMAT_VERSION {
        return Err((field::VERSION, Problem::UnsupportedVersion(version)));
    }
    let stored = u32_at(b, 32);
    let computed = crc32c::crc32c(&b[..32]);
    if stored != computed {
        return Err((field::CRC, Problem::BadHeaderCrc { stored, computed }));
    }
    if b[10..16].iter().any(|&x| x != 0) {
        return Err((field::FLAGS, Problem::BadHeaderField("flags/reserved")));
    }
    Ok(SegmentHeader {
        first_seq: u64_at(b, 16),
        segment_no: u64_at(b, 24),
    })
}

#[inline]
pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

#[inline]
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// Appends one complete record (header and payload) for `entry` to `buf`, as
/// [`JournalWriter`] writes it. Fails only for a name longer than [`MAX_NAME_BYTES`].
pub fn encode_record(buf: &mut Vec<u8>, seq: u64, ts: Timestamp, entry: &Entry) -> io::Result<()> {
    payload_len(entry)?;
    let start = buf.len();
    buf.extend_from_slice(&[0u8; RECORD_HEADER_SIZE]);
    encode_payload(buf, ts, entry);
    finish_record(buf, start, seq, ts);
    Ok(())
}

/// Fills in the header of the record that starts at `start` (its payload already appended).
#[inline]
pub(crate) fn finish_record(buf: &mut [u8], start: usize, seq: u64, ts: Timestamp) {
    let len = (buf.len() - start - RECORD_HEADER_SIZE) as u32;
    buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
    buf[start + 8..start + 16].copy_from_slice(&seq.to_le_bytes());
    buf[start + 16..start + 24].copy_from_slice(&ts.to_le_bytes());
    let crc = crc32c::crc32c(&buf[start + 8..]);
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// The payload length of `entry`, checking admin names.
pub(crate) fn payload_len(entry: &Entry) -> io::Result<usize> {
    let (fixed, name) = match entry {
        Entry::Command(_) => return Ok(COMMAND_RECORD_SIZE),
        Entry::AddInstrument { spec, .. } => (INSTRUMENT_FIXED, spec.symbol.as_str()),
        Entry::AddAccount { name, .. } => (ACCOUNT_FIXED, name.as_str()),
    };
    if name.len() > MAX_NAME_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "name of {} bytes is longer than the journal's limit of {MAX_NAME_BYTES}",
                name.len()
            ),
        ));
    }
    let len = fixed + name.len();
    Ok(if len == COMMAND_RECORD_SIZE {
        len + 1
    } else {
        len
    })
}

/// Appends the payload of `entry` (names must already be checked by [`payload_len`]).
pub(crate) fn encode_payload(buf: &mut Vec<u8>, ts: Timestamp, entry: &Entry) {
    let start = buf.len();
    match entry {
        Entry::Command(cmd) => buf.extend_from_slice(&crate::records::encode_command(ts, cmd)),
        Entry::AddInstrument { id, spec } => {
            buf.push(KIND_ADD_INSTRUMENT);
            buf.push(0);
            buf.extend_from_slice(&(spec.symbol.len() as u16).to_le_bytes());
            buf.extend_from_slice(&id.to_le_bytes());
            buf.extend_from_slice(&spec.tick_size.to_le_bytes());
            buf.extend_from_slice(&spec.lot_size.to_le_bytes());
            buf.extend_from_slice(&spec.min_qty.to_le_bytes());
            buf.extend_from_slice(&spec.max_qty.to_le_bytes());
            buf.extend_from_slice(&spec.price_band.unwrap_or(0).to_le_bytes());
            buf.extend_from_slice(spec.symbol.as_bytes());
        }
        Entry::AddAccount { id, name } => {
            buf.push(KIND_ADD_ACCOUNT);
            buf.push(0);
            buf.extend_from_slice(&(name.len() as u16).to_le_bytes());
            buf.extend_from_slice(&id.to_le_bytes());
            buf.extend_from_slice(name.as_bytes());
        }
    }
    if !matches!(entry, Entry::Command(_)) && buf.len() - start == COMMAND_RECORD_SIZE {
        buf.push(0);
    }
}

/// Decodes a payload whose CRC already checked out.
pub(crate) fn decode_payload(ts: Timestamp, p: &[u8]) -> Result<Entry, String> {
    if p.len() == COMMAND_RECORD_SIZE {
        let rec: &[u8; COMMAND_RECORD_SIZE] = p.try_into().expect("64 bytes");
        let (cts, cmd) = decode_command(rec).map_err(|bad| {
            format!(
                "command record does not decode (instrument {}, order id {})",
                bad.instrument, bad.order_id
            )
        })?;
        if cts != ts {
            return Err(format!(
                "command timestamp {cts} differs from the record timestamp {ts}"
            ));
        }
        return Ok(Entry::Command(cmd));
    }
    if p.len() < MIN_PAYLOAD {
        return Err(format!("admin record of {} bytes is too short", p.len()));
    }
    let kind = p[0];
    if p[1] != 0 {
        return Err("admin record reserved byte is not zero".into());
    }
    let name_len = usize::from(u16::from_le_bytes([p[2], p[3]]));
    let id = u32_at(p, 4);
    let fixed = match kind {
        KIND_ADD_INSTRUMENT => INSTRUMENT_FIXED,
        KIND_ADD_ACCOUNT => ACCOUNT_FIXED,
        other => return Err(format!("unknown admin record kind {other}")),
    };
    let body = fixed + name_len;
    let padded = body == COMMAND_RECORD_SIZE;
    if p.len() != body + usize::from(padded) || (padded && p[body] != 0) {
        return Err(format!(
            "admin record of {} bytes does not match its name length {name_len}",
            p.len()
        ));
    }
    let name = std::str::from_utf8(&p[fixed..body])
        .map_err(|_| "name is not UTF-8".to_string())?
        .to_string();
    Ok(match kind {
        KIND_ADD_INSTRUMENT => {
            let band = u64_at(p, 40) as i64;
            Entry::AddInstrument {
                id,
                spec: InstrumentSpec {
                    symbol: name,
                    tick_size: u64_at(p, 8) as i64,
                    lot_size: u64_at(p, 16),
                    min_qty: u64_at(p, 24),
                    max_qty: u64_at(p, 32),
                    price_band: (band != 0).then_some(band),
                },
            }
        }
        _ => Entry::AddAccount { id, name },
    })
}

/// fsyncs a directory so that a rename or a new file in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::NewOrder;
    use crate::types::Side;

    #[test]
    fn payload_round_trip_and_padding() {
        let mut entries = vec![
            Entry::Command(Command::Submit(NewOrder::limit(1, 2, 3, Side::Buy, 4, -5))),
            Entry::AddAccount {
                id: 7,
                name: String::new(),
            },
        ];
        for n in [0usize, 15, 16, 17, 55, 56, 57, MAX_NAME_BYTES] {
            let name = "x".repeat(n);
            let mut spec = InstrumentSpec::new(&name.replace('x', "S"), 5, 10);
            spec.price_band = Some(3);
            entries.push(Entry::AddInstrument { id: 9, spec });
            entries.push(Entry::AddAccount { id: 4, name });
        }
        for e in &entries {
            let mut buf = Vec::new();
            encode_payload(&mut buf, 42, e);
            assert_eq!(buf.len(), payload_len(e).unwrap());
            if !matches!(e, Entry::Command(_)) {
                assert_ne!(buf.len(), COMMAND_RECORD_SIZE);
            }
            assert!((MIN_PAYLOAD..=MAX_PAYLOAD).contains(&buf.len()));
            assert_eq!(decode_payload(42, &buf).as_ref(), Ok(e));
        }
        let long = Entry::AddAccount {
            id: 0,
            name: "y".repeat(MAX_NAME_BYTES + 1),
        };
        assert!(payload_len(&long).is_err());
    }

    #[test]
    fn header_round_trip() {
        let h = SegmentHeader {
            first_seq: 12,
            segment_no: 3,
        };
        let b = encode_segment_header(h);
        assert_eq!(decode_segment_header(&b), Ok(h));
        assert_eq!(parse_segment_name(&segment_file_name(12)), Some(Ok(12)));
        assert_eq!(parse_segment_name("12.journal"), None);
        assert_eq!(
            parse_segment_name("99999999999999999999.journal"),
            Some(Err(()))
        );
    }
}
