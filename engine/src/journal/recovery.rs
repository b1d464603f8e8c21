//! Recovery: the newest valid snapshot plus the journal records after it.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::{ApplyError, JournalError, JournalOptions, JournalReader, JournalWriter};
use crate::engine::Engine;
use crate::snapshot::{self, SnapshotError};

/// A recovered engine and how it was obtained.
pub struct Recovery {
    pub engine: Engine,
    /// Journal seq of the last record applied (the snapshot's seq if none
    /// followed it; 0 for an empty journal and no snapshot).
    pub last_seq: u64,
    /// The snapshot restored: file and the journal seq it covers.
    pub snapshot: Option<(PathBuf, u64)>,
    /// Newer snapshots that did not validate, newest first.
    pub skipped_snapshots: Vec<SnapshotError>,
    /// Journal records applied after the snapshot.
    pub replayed: u64,
    /// A torn tail met at the end of the journal (not applied): segment and offset.
    pub torn_tail: Option<(PathBuf, u64)>,
}

impl fmt::Debug for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recovery")
            .field("last_seq", &self.last_seq)
            .field("snapshot", &self.snapshot)
            .field("skipped_snapshots", &self.skipped_snapshots)
            .field("replayed", &self.replayed)
            .field("torn_tail", &self.torn_tail)
            .field("state_hash", &self.engine.state_hash())
            .finish()
    }
}

/// Why recovery failed.
#[derive(Debug)]
pub enum RecoveryError {
    /// The journal is damaged (other than a torn tail) or unreadable.
    Journal(JournalError),
    /// The directory could not be listed for snapshots.
    Io { path: PathBuf, source: io::Error },
    /// A journal record does not apply as it did when it was written.
    Apply { seq: u64, error: ApplyError },
    /// The snapshot covers records the journal does not hold: the journal lost
    /// its tail (or belongs to another history). Appending would reuse seqs.
    JournalBehindSnapshot {
        snapshot: PathBuf,
        snapshot_seq: u64,
        journal_last_seq: u64,
    },
    /// The writer opened on a different last seq than the replay reached.
    Mismatch {
        writer_last: u64,
        replayed_last: u64,
    },
}

impl fmt::Display for RecoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecoveryError::Journal(e) => write!(f, "recovery failed: {e}"),
            RecoveryError::Io { path, source } => {
                write!(
                    f,
                    "recovery failed: cannot list {}: {source}",
                    path.display()
                )
            }
            RecoveryError::Apply { seq, error } => {
                write!(
                    f,
                    "recovery failed: journal record {seq} does not apply: {error}"
                )
            }
            RecoveryError::JournalBehindSnapshot {
                snapshot,
                snapshot_seq,
                journal_last_seq,
            } => write!(
                f,
                "recovery failed: snapshot {} covers journal seq {snapshot_seq} but the \
                 journal ends at seq {journal_last_seq}",
                snapshot.display()
            ),
            RecoveryError::Mismatch {
                writer_last,
                replayed_last,
            } => write!(
                f,
                "recovery failed: the journal writer ends at seq {writer_last}, replay at \
                 {replayed_last}"
            ),
        }
    }
}

impl std::error::Error for RecoveryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RecoveryError::Journal(e) => Some(e),
            RecoveryError::Io { source, .. } => Some(source),
            RecoveryError::Apply { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<JournalError> for RecoveryError {
    fn from(e: JournalError) -> Self {
        RecoveryError::Journal(e)
    }
}

/// Rebuilds the engine from `dir` (snapshots and journal segments in one
/// directory): the newest snapshot that validates (or an empty engine), then
/// every journal record after it. Returns the engine and the last journal seq
/// applied. Read-only: a torn tail is not applied (opening a
/// [`JournalWriter`] truncates it); see [`recover_and_open`] to also resume writing.
pub fn recover(dir: impl AsRef<Path>) -> Result<(Engine, u64), RecoveryError> {
    recover_report(dir).map(|r| (r.engine, r.last_seq))
}

/// [`recover`] with the details: snapshot used, snapshots skipped, records replayed, torn tail.
pub fn recover_report(dir: impl AsRef<Path>) -> Result<Recovery, RecoveryError> {
    let dir = dir.as_ref();
    let start = start_from_snapshot(dir)?;
    replay_after(dir, start)
}

/// Recovers like [`recover_report`], then opens the journal for appending after
/// the last record (truncating a torn tail). In an empty journal directory the
/// first record gets the seq after the snapshot's.
pub fn recover_and_open(
    dir: impl AsRef<Path>,
    options: JournalOptions,
) -> Result<(Recovery, JournalWriter), RecoveryError> {
    let dir = dir.as_ref();
    let start = start_from_snapshot(dir)?;
    let options = JournalOptions {
        first_seq: start.seq + 1,
        ..options
    };
    let writer = JournalWriter::open(dir, options)?;
    let recovery = replay_after(dir, start)?;
    if writer.last_seq() != recovery.last_seq {
        return Err(RecoveryError::Mismatch {
            writer_last: writer.last_seq(),
            replayed_last: recovery.last_seq,
        });
    }
    Ok((recovery, writer))
}

struct Start {
    engine: Engine,
    seq: u64,
    snapshot: Option<(PathBuf, u64)>,
    skipped: Vec<SnapshotError>,
}

fn start_from_snapshot(dir: &Path) -> Result<Start, RecoveryError> {
    let latest = snapshot::latest_valid_report(dir).map_err(|source| RecoveryError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(match latest.found {
        Some((path, engine, seq)) => Start {
            engine,
            seq,
            snapshot: Some((path, seq)),
            skipped: latest.skipped,
        },
        None => Start {
            engine: Engine::new(),
            seq: 0,
            snapshot: None,
            skipped: latest.skipped,
        },
    })
}

fn replay_after(dir: &Path, start: Start) -> Result<Recovery, RecoveryError> {
    let Start {
        mut engine,
        seq: snap_seq,
        snapshot,
        skipped,
    } = start;
    let mut reader = JournalReader::open(dir, snap_seq + 1)?;
    let mut events = Vec::with_capacity(64);
    let mut replayed = 0u64;
    loop {
        match reader.next_record() {
            Ok(Some(rec)) => {
                events.clear();
                rec.entry
                    .apply(rec.ts, &mut engine, &mut events)
                    .map_err(|error| RecoveryError::Apply {
                        seq: rec.seq,
                        error,
                    })?;
                replayed += 1;
            }
            Ok(None) | Err(JournalError::TornTail { .. }) => break,
            Err(e) => return Err(e.into()),
        }
    }
    let torn_tail = reader.torn_tail().map(|(p, o)| (p.to_path_buf(), o));
    let last_seq = match reader.next_seq() {
        Some(next) => {
            let journal_last = next - 1;
            if journal_last < snap_seq {
                let (path, _) = snapshot.clone().expect("a snapshot when snap_seq > 0");
                return Err(RecoveryError::JournalBehindSnapshot {
                    snapshot: path,
                    snapshot_seq: snap_seq,
                    journal_last_seq: journal_last,
                });
            }
            journal_last
        }
        // No segment at all: the snapshot is everything.
        None => snap_seq,
    };
    Ok(Recovery {
        engine,
        last_seq,
        snapshot,
        skipped_snapshots: skipped,
        replayed,
        torn_tail,
    })
}
