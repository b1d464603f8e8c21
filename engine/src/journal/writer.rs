//! Appending to the journal: fsync policies, group commit, segment rollover,
//! and recovery of a torn tail on open.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{
    encode_payload, encode_segment_header, finish_record, payload_len, segment_file_name, sync_dir,
    Entry, JournalError, JournalReader, SegmentHeader, RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE,
};
use crate::command::Command;
use crate::instrument::InstrumentSpec;
use crate::records::{encode_command, COMMAND_RECORD_SIZE};
use crate::types::{AccountId, InstrumentId, Timestamp};

/// When appended records reach the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Every append is written and fdatasync'd before it returns.
    Always,
    /// Appends are buffered; one write + fdatasync per [`JournalWriter::commit`]
    /// (group commit), and automatically when a batch limit is reached.
    Batch,
    /// Appends are buffered and handed to the OS on commit (or when a batch
    /// limit is reached), never fsync'd: survives a process crash, not a power cut.
    None,
}

/// How a [`JournalWriter`] writes.
#[derive(Clone, Debug)]
pub struct JournalOptions {
    pub fsync: FsyncPolicy,
    /// A segment is closed and a new one started before it would exceed this size
    /// (a segment always takes at least one record).
    pub segment_max_bytes: u64,
    /// Commit automatically once this many records are pending (`Batch`, `None`).
    pub batch_max_records: usize,
    /// Commit automatically once this many bytes are pending (`Batch`, `None`).
    pub batch_max_bytes: usize,
    /// Commit automatically once the oldest pending record is this old; checked
    /// on append (the writer has no thread of its own).
    pub batch_interval: Option<Duration>,
    /// With `false`, appends never commit on their own: `batch_max_records` and
    /// `batch_interval` are ignored and `batch_max_bytes` only hands the pending
    /// bytes to the OS (no fdatasync). For a caller that commits or
    /// [`flush`](JournalWriter::flush)es every batch itself and must not be
    /// stalled by an fdatasync inside an append (the gateway's group commit).
    pub auto_commit: bool,
    /// Seq of the first record when the directory holds no segment yet
    /// (a journal that continues after a snapshot restored elsewhere).
    pub first_seq: u64,
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions {
            fsync: FsyncPolicy::Batch,
            segment_max_bytes: 64 << 20,
            batch_max_records: 10_000,
            batch_max_bytes: 4 << 20,
            batch_interval: Some(Duration::from_millis(5)),
            auto_commit: true,
            first_seq: 1,
        }
    }
}

impl JournalOptions {
    /// Default options with the given fsync policy.
    pub fn with_fsync(fsync: FsyncPolicy) -> JournalOptions {
        JournalOptions {
            fsync,
            ..JournalOptions::default()
        }
    }
}

/// What opening the journal found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Segment files present (including one created by this open).
    pub segments: usize,
    /// Records validated.
    pub records: u64,
    /// A torn tail that was cut off: segment, offset it was truncated at, bytes dropped.
    pub truncated: Option<(PathBuf, u64, u64)>,
    /// Stale `*.journal.tmp` files (interrupted segment creations) removed.
    pub removed_temp_files: Vec<PathBuf>,
}

/// Appends records to the journal in one directory.
///
/// Holds an exclusive lock (`journal.lock`) on the directory while open. After
/// an I/O error the writer refuses further work (the state of unsynced data is
/// unknown); reopen it to recover.
pub struct JournalWriter {
    dir: PathBuf,
    options: JournalOptions,
    /// Shared with the [`SyncTicket`]s handed out, which fdatasync it on other threads.
    file: Arc<File>,
    segment_path: PathBuf,
    segment_no: u64,
    /// Bytes in the current segment, pending ones included.
    segment_len: u64,
    /// Records encoded but not yet handed to the OS.
    pending: Vec<u8>,
    pending_records: usize,
    pending_since: Option<Instant>,
    next_seq: u64,
    /// Last seq handed to the OS.
    written_seq: u64,
    /// Last seq fdatasync'd.
    synced_seq: u64,
    failed: bool,
    report: OpenReport,
    _lock: File,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |e| JournalError::io(path, e)
}

/// Creates segment `first_seq` atomically and returns it open for writing after its header.
fn create_segment(dir: &Path, header: SegmentHeader) -> io::Result<(File, PathBuf)> {
    let name = segment_file_name(header.first_seq);
    let path = dir.join(&name);
    if path.exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("segment {} already exists", path.display()),
        ));
    }
    let tmp = dir.join(format!("{name}.tmp"));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    file.write_all(&encode_segment_header(header))?;
    file.sync_all()?;
    fs::rename(&tmp, &path)?;
    sync_dir(dir)?;
    Ok((file, path))
}

impl JournalWriter {
    /// Opens (creating if needed) the journal in `dir`.
    ///
    /// Validates every segment and record first. A torn tail is truncated and
    /// appending continues after the last good record; any other damage is an
    /// error and nothing is changed.
    pub fn open(
        dir: impl AsRef<Path>,
        options: JournalOptions,
    ) -> Result<JournalWriter, JournalError> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let lock_path = dir.join("journal.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        lock.try_lock().map_err(|e| {
            let source = match e {
                fs::TryLockError::WouldBlock => io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "the journal is open in another writer",
                ),
                fs::TryLockError::Error(e) => e,
            };
            JournalError::io(&lock_path, source)
        })?;

        let mut report = OpenReport::default();
        for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            let name = entry.file_name();
            if name.to_str().is_some_and(|n| n.ends_with(".journal.tmp")) {
                let path = entry.path();
                fs::remove_file(&path).map_err(io_err(&path))?;
                report.removed_temp_files.push(path);
            }
        }

        // Validate everything, find the end of the last good record.
        let mut reader = JournalReader::open_all(&dir)?;
        let mut torn = None;
        loop {
            match reader.next_record() {
                Ok(Some(_)) => report.records += 1,
                Ok(None) => break,
                Err(e @ JournalError::TornTail { .. }) => {
                    torn = Some(e);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        let found = reader
            .position()
            .map(|(c, pos)| (c.path.clone(), c.header, c.next_seq, pos));
        drop(reader);

        let max = options
            .segment_max_bytes
            .max((SEGMENT_HEADER_SIZE + RECORD_HEADER_SIZE + super::MAX_PAYLOAD) as u64);
        let options = JournalOptions {
            segment_max_bytes: max,
            batch_max_records: options.batch_max_records.max(1),
            first_seq: options.first_seq.max(1),
            ..options
        };

        let (file, segment_path, header, next_seq, segment_len) = match found {
            None => {
                let header = SegmentHeader {
                    first_seq: options.first_seq,
                    segment_no: 0,
                };
                let (file, path) = create_segment(&dir, header).map_err(io_err(&dir))?;
                report.segments = 1;
                (
                    file,
                    path,
                    header,
                    options.first_seq,
                    SEGMENT_HEADER_SIZE as u64,
                )
            }
            Some((path, header, next_seq, end)) => {
                report.segments = super::list_segments(&dir)?.len();
                let file = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(io_err(&path))?;
                if let Some(JournalError::TornTail { offset, .. }) = torn {
                    let len = file.metadata().map_err(io_err(&path))?.len();
                    file.set_len(offset).map_err(io_err(&path))?;
                    report.truncated = Some((path.clone(), offset, len - offset));
                }
                // Whatever the previous writer left in the page cache is made durable now,
                // so that everything before `next_seq` counts as durable.
                file.sync_all().map_err(io_err(&path))?;
                (file, path, header, next_seq, end)
            }
        };
        let mut file = file;
        file.seek(io::SeekFrom::Start(segment_len))
            .map_err(io_err(&segment_path))?;

        Ok(JournalWriter {
            dir,
            file: Arc::new(file),
            segment_path,
            segment_no: header.segment_no,
            segment_len,
            pending: Vec::with_capacity(options.batch_max_bytes.min(16 << 20) + 4096),
            pending_records: 0,
            pending_since: None,
            next_seq,
            written_seq: next_seq - 1,
            synced_seq: next_seq - 1,
            failed: false,
            report,
            options,
            _lock: lock,
        })
    }

    /// What opening found (torn tail truncated, records validated).
    pub fn open_report(&self) -> &OpenReport {
        &self.report
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn options(&self) -> &JournalOptions {
        &self.options
    }

    /// The segment currently appended to.
    pub fn segment_path(&self) -> &Path {
        &self.segment_path
    }

    /// Seq of the last record appended (0 if none ever; `first_seq - 1` for a
    /// journal started at `first_seq`).
    pub fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// Highest seq known to be on disk: fdatasync'd (`Always`, `Batch`), or
    /// handed to the OS (`None`).
    pub fn durable_seq(&self) -> u64 {
        match self.options.fsync {
            FsyncPolicy::None => self.written_seq,
            FsyncPolicy::Always | FsyncPolicy::Batch => self.synced_seq,
        }
    }

    /// Appends a command; returns its journal seq. Durable per the fsync policy
    /// (see [`durable_seq`](Self::durable_seq)).
    pub fn append(&mut self, ts: Timestamp, cmd: &Command) -> io::Result<u64> {
        self.append_with(ts, COMMAND_RECORD_SIZE, |buf| {
            buf.extend_from_slice(&encode_command(ts, cmd));
        })
    }

    /// Appends any entry (a command or a registration); returns its journal seq.
    pub fn append_entry(&mut self, ts: Timestamp, entry: &Entry) -> io::Result<u64> {
        let len = payload_len(entry)?;
        self.append_with(ts, len, |buf| encode_payload(buf, ts, entry))
    }

    /// Journals `Engine::add_instrument(spec)` having returned `id`.
    pub fn append_add_instrument(
        &mut self,
        ts: Timestamp,
        id: InstrumentId,
        spec: &InstrumentSpec,
    ) -> io::Result<u64> {
        self.append_entry(
            ts,
            &Entry::AddInstrument {
                id,
                spec: spec.clone(),
            },
        )
    }

    /// Journals `Engine::account_id(name)` having registered account `id`.
    pub fn append_add_account(
        &mut self,
        ts: Timestamp,
        id: AccountId,
        name: &str,
    ) -> io::Result<u64> {
        self.append_entry(
            ts,
            &Entry::AddAccount {
                id,
                name: name.to_string(),
            },
        )
    }

    fn check_ok(&self) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other(
                "journal writer failed earlier; reopen the journal to recover",
            ));
        }
        Ok(())
    }

    /// Runs `f`; on error marks the writer failed.
    fn guard<T>(&mut self, f: impl FnOnce(&mut Self) -> io::Result<T>) -> io::Result<T> {
        self.check_ok()?;
        let r = f(self);
        if r.is_err() {
            self.failed = true;
        }
        r
    }

    fn append_with(
        &mut self,
        ts: Timestamp,
        payload: usize,
        encode: impl FnOnce(&mut Vec<u8>),
    ) -> io::Result<u64> {
        self.guard(|w| {
            let size = (RECORD_HEADER_SIZE + payload) as u64;
            if w.segment_len > SEGMENT_HEADER_SIZE as u64
                && w.segment_len + size > w.options.segment_max_bytes
            {
                w.roll()?;
            }
            let seq = w.next_seq;
            let start = w.pending.len();
            w.pending.extend_from_slice(&[0u8; RECORD_HEADER_SIZE]);
            encode(&mut w.pending);
            debug_assert_eq!(w.pending.len() - start, size as usize);
            finish_record(&mut w.pending, start, seq, ts);
            w.next_seq += 1;
            w.segment_len += size;
            w.pending_records += 1;
            match w.options.fsync {
                FsyncPolicy::Always => w.commit_inner()?,
                FsyncPolicy::Batch | FsyncPolicy::None if !w.options.auto_commit => {
                    if w.pending.len() >= w.options.batch_max_bytes {
                        w.write_pending()?;
                    }
                }
                FsyncPolicy::Batch | FsyncPolicy::None => {
                    if w.pending_records == 1 && w.options.batch_interval.is_some() {
                        w.pending_since = Some(Instant::now());
                    }
                    let due = w.pending_records >= w.options.batch_max_records
                        || w.pending.len() >= w.options.batch_max_bytes
                        || match (w.options.batch_interval, w.pending_since) {
                            (Some(limit), Some(since)) => since.elapsed() >= limit,
                            _ => false,
                        };
                    if due {
                        w.commit_inner()?;
                    }
                }
            }
            Ok(seq)
        })
    }

    /// Hands pending records to the OS and, unless the policy is `None`, fdatasyncs them.
    pub fn commit(&mut self) -> io::Result<()> {
        self.guard(Self::commit_inner)
    }

    fn commit_inner(&mut self) -> io::Result<()> {
        self.write_pending()?;
        if self.options.fsync != FsyncPolicy::None && self.synced_seq < self.written_seq {
            self.file.sync_data()?;
            self.synced_seq = self.written_seq;
        }
        Ok(())
    }

    /// Hands pending records to the OS without waiting for the disk, and returns
    /// a ticket whose [`SyncTicket::sync`] makes them durable. The sync may run on
    /// another thread while this writer goes on appending (pipelined group
    /// commit); report it with [`mark_synced`](Self::mark_synced) afterwards.
    pub fn flush(&mut self) -> io::Result<SyncTicket> {
        self.guard(|w| {
            w.write_pending()?;
            Ok(SyncTicket {
                file: Arc::clone(&w.file),
                upto: w.written_seq,
                needed: w.options.fsync != FsyncPolicy::None && w.synced_seq < w.written_seq,
            })
        })
    }

    /// Records that `ticket` was synced: its records count as durable.
    pub fn mark_synced(&mut self, ticket: &SyncTicket) {
        // A ticket of an older segment is covered too: rolling over synced that segment whole.
        if ticket.upto <= self.written_seq && ticket.upto > self.synced_seq {
            self.synced_seq = ticket.upto;
        }
    }

    /// Records that syncing a ticket failed: what was written is in an unknown
    /// state, so the writer refuses further work, as after any I/O error.
    pub fn mark_failed(&mut self) {
        self.failed = true;
    }

    fn write_pending(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            (&*self.file).write_all(&self.pending)?;
            self.pending.clear();
        }
        self.written_seq = self.next_seq - 1;
        self.pending_records = 0;
        self.pending_since = None;
        Ok(())
    }

    /// Closes the current segment (committing it) and starts the next one at `next_seq`.
    fn roll(&mut self) -> io::Result<()> {
        self.commit_inner()?;
        let header = SegmentHeader {
            first_seq: self.next_seq,
            segment_no: self.segment_no + 1,
        };
        let (file, path) = create_segment(&self.dir, header)?;
        self.file = Arc::new(file);
        self.segment_path = path;
        self.segment_no = header.segment_no;
        self.segment_len = SEGMENT_HEADER_SIZE as u64;
        self.report.segments += 1;
        Ok(())
    }

    /// Commits what is pending and closes the journal.
    pub fn close(mut self) -> io::Result<()> {
        self.commit()
    }
}

impl Drop for JournalWriter {
    /// Best effort: hands pending records to the OS (no fsync). Use
    /// [`close`](JournalWriter::close) to see errors.
    fn drop(&mut self) {
        if !self.failed && !self.pending.is_empty() {
            let _ = self.write_pending();
        }
    }
}

/// Records handed to the OS by [`JournalWriter::flush`], to be fdatasync'd on
/// any thread.
#[derive(Clone, Debug)]
pub struct SyncTicket {
    file: Arc<File>,
    upto: u64,
    needed: bool,
}

impl SyncTicket {
    /// The last seq this ticket makes durable.
    pub fn upto(&self) -> u64 {
        self.upto
    }

    /// fdatasyncs the segment (nothing to do under `FsyncPolicy::None` or when
    /// already synced); returns [`upto`](Self::upto).
    pub fn sync(&self) -> io::Result<u64> {
        if self.needed {
            self.file.sync_data()?;
        }
        Ok(self.upto)
    }
}

impl std::fmt::Debug for JournalWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalWriter")
            .field("dir", &self.dir)
            .field("segment", &self.segment_path)
            .field("last_seq", &self.last_seq())
            .field("durable_seq", &self.durable_seq())
            .finish()
    }
}
