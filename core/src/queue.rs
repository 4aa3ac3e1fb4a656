//! The queue: several videos, each a job with its own settings, run one after another. Pure
//! bookkeeping (the page keeps the files and starts the jobs): what runs next, reordering,
//! removing, retrying, pausing, and what is stored so that a reload resumes the queue.
//!
//! One job at a time: the pipeline worker runs one, and the detector of one auto-mode job already
//! keeps every core busy (one detector worker per core), so a second job would only share them.

use crate::settings::JobSettings;
use crate::units::AspectRatio;
use serde::{Deserialize, Serialize};

/// Whether a file's name says it is a video Reframe reads (a folder's other files are left out
/// of the queue; a single chosen file is tried whatever its name, and a bad one gets its message).
pub fn looks_like_video(file_name: &str) -> bool {
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    matches!(ext.as_str(), "mp4" | "m4v" | "mov" | "mkv" | "webm")
}

/// A queue entry's number, unique within its queue (kept across reloads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntryId(pub u32);

/// Where a queued video stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EntryState {
    /// Waits for its turn.
    Waiting,
    /// Its job runs; `progress` 0..=1 over the whole job.
    Running { progress: f64 },
    /// Finished: its main output (the stored job's path and download name), and the outputs of
    /// its further ratios.
    Done {
        output_path: String,
        download_name: String,
        output_bytes: u64,
        #[serde(default)]
        more: Vec<MoreOutput>,
    },
    /// Its job failed; the message says why in plain words.
    Failed { message: String },
    /// The user stopped it (its work so far is kept by the worker: Retry goes on from there).
    Stopped,
}

/// The output of a further ratio of a finished entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoreOutput {
    pub output_path: String,
    pub download_name: String,
}

/// One video of the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: EntryId,
    pub file_name: String,
    pub file_bytes: u64,
    pub settings: JobSettings,
    /// Further ratios exported from the same pass.
    #[serde(default)]
    pub more_ratios: Vec<AspectRatio>,
    pub state: EntryState,
}

/// How a job of the queue ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    Done { output_path: String, download_name: String, output_bytes: u64, more: Vec<MoreOutput> },
    Failed(String),
    Stopped,
}

/// The stored queue (the page keeps it as JSON in localStorage).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Queue {
    pub entries: Vec<Entry>,
    /// Paused by the user: nothing new starts.
    #[serde(default)]
    pub paused: bool,
    next_id: u32,
}

/// How many entries are in each state (for the status line and the tab title).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub waiting: usize,
    pub running: usize,
    pub done: usize,
    pub failed: usize,
    pub stopped: usize,
}

impl Queue {
    /// Adds a video at the end; answers its id.
    pub fn add(
        &mut self,
        file_name: &str,
        file_bytes: u64,
        settings: JobSettings,
        more_ratios: Vec<AspectRatio>,
    ) -> EntryId {
        let id = EntryId(self.next_id);
        self.next_id += 1;
        self.entries.push(Entry {
            id,
            file_name: file_name.to_string(),
            file_bytes,
            settings,
            more_ratios,
            state: EntryState::Waiting,
        });
        id
    }

    pub fn get(&self, id: EntryId) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    fn get_mut(&mut self, id: EntryId) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.id == id)
    }

    pub fn running(&self) -> Option<EntryId> {
        self.entries.iter().find(|e| matches!(e.state, EntryState::Running { .. })).map(|e| e.id)
    }

    /// The entry to start now: the first waiting one whose file `has_file` says is at hand, when
    /// nothing runs and the queue is not paused.
    pub fn next(&self, has_file: impl Fn(EntryId) -> bool) -> Option<EntryId> {
        if self.paused || self.running().is_some() {
            return None;
        }
        self.entries.iter().find(|e| e.state == EntryState::Waiting && has_file(e.id)).map(|e| e.id)
    }

    /// Marks `id` running (from waiting, stopped or failed).
    pub fn start(&mut self, id: EntryId) {
        if let Some(e) = self.get_mut(id) {
            e.state = EntryState::Running { progress: 0.0 };
        }
    }

    pub fn progress(&mut self, id: EntryId, progress: f64) {
        if let Some(e) = self.get_mut(id) {
            if let EntryState::Running { progress: p } = &mut e.state {
                *p = progress.clamp(0.0, 1.0);
            }
        }
    }

    /// The running entry's job ended; answers which entry that was.
    pub fn ended(&mut self, how: Ended) -> Option<EntryId> {
        let id = self.running()?;
        let e = self.get_mut(id)?;
        e.state = match how {
            Ended::Done { output_path, download_name, output_bytes, more } => {
                EntryState::Done { output_path, download_name, output_bytes, more }
            }
            Ended::Failed(message) => EntryState::Failed { message },
            Ended::Stopped => EntryState::Stopped,
        };
        Some(id)
    }

    /// Moves `id` one place towards the front (`-1`) or the back (`1`).
    pub fn shift(&mut self, id: EntryId, by: isize) {
        let Some(at) = self.entries.iter().position(|e| e.id == id) else { return };
        let to = at as isize + by;
        if (0..self.entries.len() as isize).contains(&to) {
            self.entries.swap(at, to as usize);
        }
    }

    /// Removes `id` unless it runs (stop it first); answers whether it went.
    pub fn remove(&mut self, id: EntryId) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.id != id || matches!(e.state, EntryState::Running { .. }));
        self.entries.len() < before
    }

    /// Removes the finished entries (their outputs stay among the stored jobs).
    pub fn remove_done(&mut self) {
        self.entries.retain(|e| !matches!(e.state, EntryState::Done { .. }));
    }

    /// A failed or stopped entry waits again.
    pub fn retry(&mut self, id: EntryId) {
        if let Some(e) = self.get_mut(id) {
            if matches!(e.state, EntryState::Failed { .. } | EntryState::Stopped) {
                e.state = EntryState::Waiting;
            }
        }
    }

    /// New settings for an entry that has not started (or ended without output).
    pub fn set_settings(&mut self, id: EntryId, settings: JobSettings, more_ratios: Vec<AspectRatio>) -> bool {
        match self.get_mut(id) {
            Some(e) if matches!(e.state, EntryState::Waiting | EntryState::Failed { .. } | EntryState::Stopped) => {
                e.settings = settings;
                e.more_ratios = more_ratios;
                e.state = EntryState::Waiting;
                true
            }
            _ => false,
        }
    }

    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for e in &self.entries {
            match e.state {
                EntryState::Waiting => c.waiting += 1,
                EntryState::Running { .. } => c.running += 1,
                EntryState::Done { .. } => c.done += 1,
                EntryState::Failed { .. } => c.failed += 1,
                EntryState::Stopped => c.stopped += 1,
            }
        }
        c
    }

    /// Whether every entry has ended (and there is at least one).
    pub fn finished(&self) -> bool {
        let c = self.counts();
        !self.entries.is_empty() && c.waiting == 0 && c.running == 0
    }

    /// The entries still to run whose file is not at hand, by name and size: a chosen file that
    /// matches one of them is its file again (after a reload the page has no files).
    pub fn waiting_for(&self, file_name: &str, file_bytes: u64, has_file: impl Fn(EntryId) -> bool) -> Option<EntryId> {
        self.entries
            .iter()
            .find(|e| {
                !matches!(e.state, EntryState::Done { .. })
                    && e.file_name == file_name
                    && e.file_bytes == file_bytes
                    && !has_file(e.id)
            })
            .map(|e| e.id)
    }

    /// Whether a finished entry was made from a file of this name and size.
    pub fn made(&self, file_name: &str, file_bytes: u64) -> bool {
        self.entries.iter().any(|e| {
            matches!(e.state, EntryState::Done { .. }) && e.file_name == file_name && e.file_bytes == file_bytes
        })
    }

    /// Every finished output of the queue (path, download name), in queue order, each entry's
    /// main ratio first: what "Download all" puts in its ZIP.
    pub fn outputs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for e in &self.entries {
            if let EntryState::Done { output_path, download_name, more, .. } = &e.state {
                out.push((output_path.clone(), download_name.clone()));
                out.extend(more.iter().map(|m| (m.output_path.clone(), m.download_name.clone())));
            }
        }
        out
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The stored queue after a reload: the job that was running waits again (the worker kept its
    /// work, so it goes on where it stopped). Unreadable text gives an empty queue.
    pub fn restore(json: &str) -> Queue {
        let mut q: Queue = serde_json::from_str(json).unwrap_or_default();
        for e in &mut q.entries {
            if matches!(e.state, EntryState::Running { .. }) {
                e.state = EntryState::Waiting;
            }
        }
        q.next_id = q.next_id.max(q.entries.iter().map(|e| e.id.0 + 1).max().unwrap_or(0));
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::CropMode;

    fn settings() -> JobSettings {
        JobSettings::default()
    }

    fn queue_of(n: usize) -> (Queue, Vec<EntryId>) {
        let mut q = Queue::default();
        let ids = (0..n).map(|i| q.add(&format!("clip{i}.mp4"), 1000 + i as u64, settings(), vec![])).collect();
        (q, ids)
    }

    fn done(name: &str) -> Ended {
        Ended::Done {
            output_path: format!("outputs/{name}"),
            download_name: name.into(),
            output_bytes: 1,
            more: vec![],
        }
    }

    #[test]
    fn a_folders_videos_by_their_names() {
        for yes in ["a.mp4", "B.MOV", "c.m4v", "d.mkv", "e.webm", "f.g.Mp4"] {
            assert!(looks_like_video(yes), "{yes}");
        }
        for no in ["notes.txt", "mp4", "photo.jpg", ".DS_Store", "clip.avi", ""] {
            assert!(!looks_like_video(no), "{no}");
        }
    }

    #[test]
    fn runs_one_after_another_and_a_failure_does_not_stop_the_rest() {
        let (mut q, ids) = queue_of(3);
        let all = |_| true;
        assert_eq!(q.next(all), Some(ids[0]));
        q.start(ids[0]);
        assert_eq!(q.next(all), None, "one at a time");
        q.progress(ids[0], 0.5);
        assert_eq!(q.get(ids[0]).unwrap().state, EntryState::Running { progress: 0.5 });
        assert_eq!(q.ended(Ended::Failed("not a video".into())), Some(ids[0]));
        assert_eq!(q.next(all), Some(ids[1]));
        q.start(ids[1]);
        q.ended(done("a"));
        q.start(q.next(all).unwrap());
        q.ended(done("b"));
        assert!(q.finished());
        assert_eq!(q.counts(), Counts { done: 2, failed: 1, ..Counts::default() });
        assert_eq!(q.outputs(), [("outputs/a".into(), "a".into()), ("outputs/b".into(), "b".into())]);
        assert_eq!(q.ended(done("c")), None, "nothing runs");
        // Retry puts the failed one back in line.
        q.retry(ids[0]);
        assert_eq!(q.next(all), Some(ids[0]));
    }

    #[test]
    fn pause_reorder_remove_and_files_at_hand() {
        let (mut q, ids) = queue_of(4);
        q.shift(ids[2], -1);
        q.shift(ids[0], -1); // already first: stays
        q.shift(ids[3], 1); // already last: stays
        let order = |q: &Queue| q.entries.iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(order(&q), [ids[0], ids[2], ids[1], ids[3]]);
        q.paused = true;
        assert_eq!(q.next(|_| true), None);
        q.paused = false;
        // Only entries whose file is at hand can start.
        assert_eq!(q.next(|id| id == ids[1]), Some(ids[1]));
        q.start(ids[1]);
        assert!(!q.remove(ids[1]), "a running entry is not removed");
        assert!(q.remove(ids[3]));
        assert_eq!(q.ended(Ended::Stopped), Some(ids[1]));
        assert_eq!(q.get(ids[1]).unwrap().state, EntryState::Stopped);
        assert!(q.set_settings(ids[1], JobSettings { mode: CropMode::Auto, ..JobSettings::default() }, vec![]));
        assert_eq!(q.get(ids[1]).unwrap().state, EntryState::Waiting);
        q.start(ids[0]);
        q.ended(done("x"));
        assert!(!q.set_settings(ids[0], settings(), vec![]), "a finished entry keeps its settings");
        q.remove_done();
        assert_eq!(order(&q), [ids[2], ids[1]]);
    }

    #[test]
    fn a_reload_keeps_the_queue_and_the_running_job_waits_again() {
        let (mut q, ids) = queue_of(3);
        q.start(ids[0]);
        q.ended(Ended::Done {
            output_path: "outputs/a".into(),
            download_name: "a 9x16".into(),
            output_bytes: 1,
            more: vec![MoreOutput { output_path: "outputs/a1".into(), download_name: "a 1x1".into() }],
        });
        q.start(ids[1]);
        q.progress(ids[1], 0.3);
        let back = Queue::restore(&q.to_json());
        assert_eq!(back.entries.len(), 3);
        assert!(matches!(back.get(ids[0]).unwrap().state, EntryState::Done { .. }));
        assert_eq!(back.get(ids[1]).unwrap().state, EntryState::Waiting);
        assert_eq!(back.running(), None);
        assert_eq!(back.outputs(), [("outputs/a".into(), "a 9x16".into()), ("outputs/a1".into(), "a 1x1".into())]);
        // New entries get new ids.
        let mut back = back;
        let added = back.add("new.mp4", 5, settings(), vec![]);
        assert!(!ids.contains(&added));
        // The files come back by name and size; a finished entry needs none.
        assert_eq!(back.waiting_for("clip1.mp4", 1001, |_| false), Some(ids[1]));
        assert_eq!(back.waiting_for("clip1.mp4", 999, |_| false), None);
        assert_eq!(back.waiting_for("clip0.mp4", 1000, |_| false), None);
        assert!(back.made("clip0.mp4", 1000) && !back.made("clip1.mp4", 1001));
        assert_eq!(back.waiting_for("clip1.mp4", 1001, |id| id == ids[1]), None, "already at hand");
        assert_eq!(Queue::restore("not json"), Queue::default());
    }
}
