//! Reading the journal back: every header and record CRC is checked.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::{
    decode_payload, decode_segment_header, field, list_segments, u32_at, u64_at, JournalError,
    JournalRecord, Problem, SegmentHeader, MAX_PAYLOAD, MIN_PAYLOAD, RECORD_HEADER_SIZE,
    SEGMENT_HEADER_SIZE,
};

/// Read buffer per segment; far larger than any record.
const BUF_SIZE: usize = 1 << 20;

/// A cursor over the records of one segment file.
pub(crate) struct SegmentCursor {
    pub path: PathBuf,
    file: File,
    /// File length when the segment was opened; bytes appended later are not read.
    len: u64,
    buf: Vec<u8>,
    lo: usize,
    hi: usize,
    /// File offset of `buf[lo]`: the start of the next record.
    pub pos: u64,
    pub is_last: bool,
    pub header: SegmentHeader,
    /// Seq the next record must have.
    pub next_seq: u64,
}

impl SegmentCursor {
    /// Opens `path` and validates its header against its name.
    pub fn open(path: &Path, name_seq: u64, is_last: bool) -> Result<SegmentCursor, JournalError> {
        let mut file = File::open(path).map_err(|e| JournalError::io(path, e))?;
        let len = file
            .metadata()
            .map_err(|e| JournalError::io(path, e))?
            .len();
        let corrupt = |offset, problem| JournalError::Corrupt {
            segment: path.to_path_buf(),
            offset,
            problem,
        };
        if len == 0 {
            return Err(corrupt(0, Problem::EmptySegment));
        }
        if len < SEGMENT_HEADER_SIZE as u64 {
            return Err(corrupt(0, Problem::TruncatedHeader { len }));
        }
        let mut hb = [0u8; SEGMENT_HEADER_SIZE];
        file.read_exact(&mut hb)
            .map_err(|e| JournalError::io(path, e))?;
        let header = decode_segment_header(&hb).map_err(|(off, p)| corrupt(off, p))?;
        if header.first_seq != name_seq {
            return Err(corrupt(
                field::FIRST_SEQ,
                Problem::NameMismatch {
                    name_seq,
                    header_seq: header.first_seq,
                },
            ));
        }
        Ok(SegmentCursor {
            path: path.to_path_buf(),
            file,
            len,
            buf: vec![0u8; BUF_SIZE],
            lo: 0,
            hi: 0,
            pos: SEGMENT_HEADER_SIZE as u64,
            is_last,
            header,
            next_seq: header.first_seq,
        })
    }

    /// Makes at least `n` bytes available at `buf[lo..]`; false at end of file.
    fn fill(&mut self, n: usize) -> Result<bool, JournalError> {
        if self.hi - self.lo >= n {
            return Ok(true);
        }
        if self.lo > 0 {
            self.buf.copy_within(self.lo..self.hi, 0);
            self.hi -= self.lo;
            self.lo = 0;
        }
        while self.hi < n {
            let read_to = self.pos + self.hi as u64;
            let remaining = self.len - read_to;
            if remaining == 0 {
                return Ok(false);
            }
            let want = (self.buf.len() - self.hi).min(remaining as usize);
            let got = self
                .file
                .read(&mut self.buf[self.hi..self.hi + want])
                .map_err(|e| JournalError::io(&self.path, e))?;
            if got == 0 {
                return Err(JournalError::io(
                    &self.path,
                    std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "segment shrank while it was being read",
                    ),
                ));
            }
            self.hi += got;
        }
        Ok(true)
    }

    /// Whether every byte from `from` to the end of the file is zero.
    fn zero_from(&mut self, from: u64) -> Result<bool, JournalError> {
        let path = self.path.clone();
        let io = |e| JournalError::io(&path, e);
        self.file.seek(SeekFrom::Start(from)).map_err(io)?;
        let mut left = self.len.saturating_sub(from);
        // The cursor's buffer is stale from here on; the caller stops reading.
        self.lo = 0;
        self.hi = 0;
        while left > 0 {
            let want = self.buf.len().min(left as usize);
            self.file.read_exact(&mut self.buf[..want]).map_err(io)?;
            if self.buf[..want].iter().any(|&b| b != 0) {
                return Ok(false);
            }
            left -= want as u64;
        }
        Ok(true)
    }

    fn damage(&self, offset: u64, problem: Problem, torn: bool) -> JournalError {
        let segment = self.path.clone();
        if torn && self.is_last {
            JournalError::TornTail {
                segment,
                offset,
                problem,
            }
        } else {
            JournalError::Corrupt {
                segment,
                offset,
                problem,
            }
        }
    }

    /// The next record, `Ok(None)` at the clean end of the segment.
    pub fn next_record(&mut self) -> Result<Option<JournalRecord>, JournalError> {
        let at = self.pos;
        let remaining = self.len - at;
        if remaining == 0 {
            return Ok(None);
        }
        if remaining < RECORD_HEADER_SIZE as u64 {
            let problem = Problem::TruncatedRecord {
                need: RECORD_HEADER_SIZE as u64,
                have: remaining,
            };
            return Err(self.damage(at, problem, true));
        }
        self.fill(RECORD_HEADER_SIZE)?;
        let h = &self.buf[self.lo..self.lo + RECORD_HEADER_SIZE];
        let len = u32_at(h, 0);
        let stored = u32_at(h, 4);
        let seq = u64_at(h, 8);
        let ts = u64_at(h, 16);
        if !(MIN_PAYLOAD..=MAX_PAYLOAD).contains(&(len as usize)) {
            // A zero-filled remainder (a file extended but never written) is a torn tail.
            let torn = self.is_last && self.zero_from(at)?;
            return Err(self.damage(at, Problem::BadLength(len), torn));
        }
        let total = RECORD_HEADER_SIZE + len as usize;
        if (total as u64) > remaining {
            let problem = Problem::TruncatedRecord {
                need: total as u64,
                have: remaining,
            };
            return Err(self.damage(at, problem, true));
        }
        self.fill(total)?;
        let rec = &self.buf[self.lo..self.lo + total];
        let computed = crc32c::crc32c(&rec[8..]);
        if computed != stored {
            let torn = self.is_last && self.zero_from(at + total as u64)?;
            return Err(self.damage(at, Problem::BadRecordCrc { stored, computed }, torn));
        }
        if seq != self.next_seq {
            let problem = Problem::SeqMismatch {
                expected: self.next_seq,
                found: seq,
            };
            return Err(self.damage(at, problem, false));
        }
        let entry = decode_payload(ts, &rec[RECORD_HEADER_SIZE..])
            .map_err(|why| self.damage(at, Problem::BadPayload(why), false))?;
        self.lo += total;
        self.pos += total as u64;
        self.next_seq += 1;
        Ok(Some(JournalRecord { seq, ts, entry }))
    }
}

/// Reads journal records in seq order across segments, from a start seq.
///
/// Iterating yields `Ok(record)` until the end of the journal; damage ends
/// the iteration with one `Err`: [`JournalError::TornTail`] for a torn last
/// record (everything before it was returned), [`JournalError::Corrupt`] for
/// anything else. Segments wholly before the start seq are skipped by name,
/// without being opened.
pub struct JournalReader {
    dir: PathBuf,
    segments: Vec<(u64, PathBuf)>,
    /// Index in `segments` of the next segment to open.
    next_segment: usize,
    current: Option<SegmentCursor>,
    start_seq: u64,
    done: bool,
    torn: Option<(PathBuf, u64)>,
}

impl JournalReader {
    /// Opens the journal in `dir` to read records with seq >= `start_seq`.
    ///
    /// If the journal's first record is after `start_seq` (older segments were
    /// removed) the records asked for are gone: that is an error, not a skip.
    /// A `start_seq` after the last record gives an empty iteration.
    pub fn open(dir: impl AsRef<Path>, start_seq: u64) -> Result<JournalReader, JournalError> {
        let dir = dir.as_ref();
        let segments = list_segments(dir)?;
        let start_seq = start_seq.max(1);
        let first = match segments.first() {
            Some(&(first, ref path)) if start_seq < first => {
                return Err(JournalError::Corrupt {
                    segment: path.clone(),
                    offset: field::FIRST_SEQ,
                    problem: Problem::Missing {
                        requested: start_seq,
                        first_available: first,
                    },
                })
            }
            _ => segments
                .iter()
                .rposition(|&(seq, _)| seq <= start_seq)
                .unwrap_or(0),
        };
        Ok(JournalReader {
            dir: dir.to_path_buf(),
            segments,
            next_segment: first,
            current: None,
            start_seq,
            done: false,
            torn: None,
        })
    }

    /// Opens the journal in `dir` from its first record, whatever its seq.
    pub fn open_all(dir: impl AsRef<Path>) -> Result<JournalReader, JournalError> {
        let dir = dir.as_ref();
        let first = list_segments(dir)?.first().map_or(1, |&(seq, _)| seq);
        JournalReader::open(dir, first)
    }

    /// The journal directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The seq the next record would have (after the end: last seq + 1); `None`
    /// before the first segment is opened or when the journal has no segment.
    pub fn next_seq(&self) -> Option<u64> {
        self.current.as_ref().map(|c| c.next_seq)
    }

    /// The torn tail met at the end of the iteration: segment and offset.
    pub fn torn_tail(&self) -> Option<(&Path, u64)> {
        self.torn.as_ref().map(|(p, o)| (p.as_path(), *o))
    }

    /// Whether the journal holds any segment.
    pub fn has_segments(&self) -> bool {
        !self.segments.is_empty()
    }

    /// The segment being read (after the end: the last one) and the offset of its next record.
    pub(crate) fn position(&self) -> Option<(&SegmentCursor, u64)> {
        self.current.as_ref().map(|c| (c, c.pos))
    }

    fn open_next_segment(&mut self) -> Result<bool, JournalError> {
        let Some((name_seq, path)) = self.segments.get(self.next_segment).cloned() else {
            return Ok(false);
        };
        let is_last = self.next_segment + 1 == self.segments.len();
        let cursor = SegmentCursor::open(&path, name_seq, is_last)?;
        if let Some(prev) = &self.current {
            let corrupt = |offset, problem| JournalError::Corrupt {
                segment: path.clone(),
                offset,
                problem,
            };
            if cursor.header.first_seq != prev.next_seq {
                return Err(corrupt(
                    field::FIRST_SEQ,
                    Problem::Gap {
                        expected: prev.next_seq,
                        found: cursor.header.first_seq,
                    },
                ));
            }
            let expected = prev.header.segment_no.wrapping_add(1);
            if cursor.header.segment_no != expected {
                return Err(corrupt(
                    field::SEGMENT_NO,
                    Problem::SegmentNumber {
                        expected,
                        found: cursor.header.segment_no,
                    },
                ));
            }
        }
        self.next_segment += 1;
        self.current = Some(cursor);
        Ok(true)
    }

    /// The next record, `Ok(None)` at the end of the journal.
    pub fn next_record(&mut self) -> Result<Option<JournalRecord>, JournalError> {
        if self.done {
            return Ok(None);
        }
        let result = self.advance();
        match &result {
            Ok(None) => self.done = true,
            Err(e) => {
                self.done = true;
                if let JournalError::TornTail {
                    segment, offset, ..
                } = e
                {
                    self.torn = Some((segment.clone(), *offset));
                }
            }
            Ok(Some(_)) => {}
        }
        result
    }

    fn advance(&mut self) -> Result<Option<JournalRecord>, JournalError> {
        loop {
            if let Some(cur) = &mut self.current {
                if let Some(rec) = cur.next_record()? {
                    if rec.seq < self.start_seq {
                        continue;
                    }
                    return Ok(Some(rec));
                }
            }
            if !self.open_next_segment()? {
                return Ok(None);
            }
        }
    }
}

impl Iterator for JournalReader {
    type Item = Result<JournalRecord, JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}
