//! The job database in IndexedDB (through the `idb` crate): job records, analysis chunks, finished
//! analyses, crop paths and output segment indexes. The schema is in ARCHITECTURE.md.
//!
//! Work is recorded in the same transaction as the job's progress, so a reload finds either both
//! or neither. Binary records are sealed (`reframe_core::records`): a damaged one is detected when
//! read and only its chunk is redone.

use idb::{Database, DatabaseEvent, Factory, KeyRange, ObjectStoreParams, Query, TransactionMode};
use reframe_core::job::{JobRecord, JobStage};
use reframe_core::records::{self, AnalysisChunk, CropPathRecord, RecordKind, SegmentIndex};
use reframe_core::ReframeError;
use wasm_bindgen::{JsCast, JsValue};

pub const DB_NAME: &str = "reframe";
/// Schema version. Version 1: jobs, analysis_chunks, analyses, crop_paths, segments. Version 2
/// adds `handles`. Upgrading creates the stores a database lacks (nothing else changed shape);
/// records carry their own versions.
pub const DB_VERSION: u32 = 2;

const JOBS: &str = "jobs";
const ANALYSIS_CHUNKS: &str = "analysis_chunks";
const ANALYSES: &str = "analyses";
const CROP_PATHS: &str = "crop_paths";
const SEGMENTS: &str = "segments";
/// The input's `FileSystemFileHandle` (when the file was dropped), to open it again on resume.
const HANDLES: &str = "handles";
const ALL_STORES: [&str; 6] = [JOBS, ANALYSIS_CHUNKS, ANALYSES, CROP_PATHS, SEGMENTS, HANDLES];

fn db_error(what: &str, e: impl std::fmt::Display) -> ReframeError {
    let text = e.to_string();
    if text.contains("QuotaExceeded") {
        ReframeError::StorageFull
    } else {
        ReframeError::Storage(format!("the job database ({what}): {text}"))
    }
}

fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, ReframeError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| ReframeError::Internal(format!("serialise a record: {e}")))
}

fn bytes(value: &[u8]) -> JsValue {
    js_sys::Uint8Array::from(value).into()
}

/// `[id, index]`, the key of a chunk or segment.
fn pair_key(id: &str, index: u64) -> JsValue {
    js_sys::Array::of2(&JsValue::from(id), &JsValue::from(index as f64)).into()
}

/// Every `[id, n]` key.
fn pairs_of(id: &str) -> Result<Query, ReframeError> {
    let lower = pair_key(id, 0);
    let upper = pair_key(id, u32::MAX as u64 * 1024);
    KeyRange::bound(&lower, &upper, None, None).map(Query::from).map_err(|e| db_error("key range", e))
}

pub struct Db {
    db: Database,
}

impl Db {
    pub async fn open() -> Result<Db, ReframeError> {
        let factory = Factory::new().map_err(|e| db_error("open", e))?;
        let mut request = factory.open(DB_NAME, Some(DB_VERSION)).map_err(|e| db_error("open", e))?;
        request.on_upgrade_needed(|event| {
            let Ok(db) = event.database() else { return };
            let existing = db.store_names();
            for name in ALL_STORES {
                if !existing.iter().any(|s| s == name) {
                    let _ = db.create_object_store(name, ObjectStoreParams::new());
                }
            }
        });
        let db = request.await.map_err(|e| db_error("open", e))?;
        Ok(Db { db })
    }

    async fn put_all(&self, stores: &[&str], items: Vec<(&str, JsValue, JsValue)>) -> Result<(), ReframeError> {
        let tx = self.db.transaction(stores, TransactionMode::ReadWrite).map_err(|e| db_error("write", e))?;
        for (store, key, value) in items {
            let s = tx.object_store(store).map_err(|e| db_error("write", e))?;
            s.put(&value, Some(&key)).map_err(|e| db_error("write", e))?.await.map_err(|e| db_error("write", e))?;
        }
        tx.commit().map_err(|e| db_error("commit", e))?.await.map_err(|e| db_error("commit", e))?;
        Ok(())
    }

    async fn get(&self, store: &str, key: JsValue) -> Result<Option<JsValue>, ReframeError> {
        let tx = self.db.transaction(&[store], TransactionMode::ReadOnly).map_err(|e| db_error("read", e))?;
        let s = tx.object_store(store).map_err(|e| db_error("read", e))?;
        let value = s.get(key).map_err(|e| db_error("read", e))?.await.map_err(|e| db_error("read", e))?;
        Ok(value.filter(|v| !v.is_undefined()))
    }

    /// Keys and values of the records matching `query` (all when `None`), in key order.
    async fn entries(&self, store: &str, query: Option<Query>) -> Result<Vec<(JsValue, JsValue)>, ReframeError> {
        let tx = self.db.transaction(&[store], TransactionMode::ReadOnly).map_err(|e| db_error("read", e))?;
        let s = tx.object_store(store).map_err(|e| db_error("read", e))?;
        let keys = s
            .get_all_keys(query.clone(), None)
            .map_err(|e| db_error("read", e))?
            .await
            .map_err(|e| db_error("read", e))?;
        let values = s.get_all(query, None).map_err(|e| db_error("read", e))?.await.map_err(|e| db_error("read", e))?;
        Ok(keys.into_iter().zip(values).collect())
    }

    /// Values of every `[id, n]` key, with `n`.
    async fn get_pairs(&self, store: &str, id: &str) -> Result<Vec<(u64, JsValue)>, ReframeError> {
        let entries = self.entries(store, Some(pairs_of(id)?)).await?;
        Ok(entries
            .into_iter()
            .map(|(k, v)| (js_sys::Reflect::get(&k, &1.into()).ok().and_then(|n| n.as_f64()).unwrap_or(-1.0) as u64, v))
            .collect())
    }

    pub async fn job(&self, id: &str) -> Result<Option<JobRecord>, ReframeError> {
        match self.get(JOBS, id.into()).await? {
            Some(v) => Ok(serde_wasm_bindgen::from_value(v).ok()),
            None => Ok(None),
        }
    }

    pub async fn jobs(&self) -> Result<Vec<JobRecord>, ReframeError> {
        let tx = self.db.transaction(&[JOBS], TransactionMode::ReadOnly).map_err(|e| db_error("read", e))?;
        let s = tx.object_store(JOBS).map_err(|e| db_error("read", e))?;
        let values = s.get_all(None, None).map_err(|e| db_error("read", e))?.await.map_err(|e| db_error("read", e))?;
        let mut jobs: Vec<JobRecord> =
            values.into_iter().filter_map(|v| serde_wasm_bindgen::from_value(v).ok()).collect();
        jobs.sort_by(|a, b| b.updated_ms.total_cmp(&a.updated_ms));
        Ok(jobs)
    }

    pub async fn put_job(&self, job: &JobRecord) -> Result<(), ReframeError> {
        self.put_all(&[JOBS], vec![(JOBS, job.id.as_str().into(), to_js(job)?)]).await
    }

    /// Stores an analysis chunk and the job's progress in one transaction.
    pub async fn commit_analysis_chunk(
        &self,
        analysis_id: &str,
        chunk: &AnalysisChunk,
        job: &JobRecord,
    ) -> Result<(), ReframeError> {
        let record = records::seal(RecordKind::AnalysisChunk, chunk);
        self.put_all(
            &[JOBS, ANALYSIS_CHUNKS],
            vec![
                (ANALYSIS_CHUNKS, pair_key(analysis_id, chunk.index), bytes(&record)),
                (JOBS, job.id.as_str().into(), to_js(job)?),
            ],
        )
        .await
    }

    /// The analysis chunks stored for `analysis_id`; damaged ones are left out (and counted).
    pub async fn analysis_chunks(&self, analysis_id: &str) -> Result<(Vec<AnalysisChunk>, u64), ReframeError> {
        let mut chunks = Vec::new();
        let mut damaged = 0;
        for (index, value) in self.get_pairs(ANALYSIS_CHUNKS, analysis_id).await? {
            let data = value.dyn_into::<js_sys::Uint8Array>().map(|a| a.to_vec()).unwrap_or_default();
            match records::open::<AnalysisChunk>(RecordKind::AnalysisChunk, &data) {
                Ok(c) if c.index == index => chunks.push(c),
                _ => damaged += 1,
            }
        }
        Ok((chunks, damaged))
    }

    /// Stores the finished analysis (the export format), the job's crop path and the job in one
    /// transaction.
    pub async fn commit_analysis(
        &self,
        analysis_id: &str,
        analysis_json: &str,
        path: &CropPathRecord,
        job: &JobRecord,
    ) -> Result<(), ReframeError> {
        let path = records::seal(RecordKind::CropPath, path);
        self.put_all(
            &[JOBS, ANALYSES, CROP_PATHS],
            vec![
                (ANALYSES, analysis_id.into(), analysis_json.into()),
                (CROP_PATHS, job.id.as_str().into(), bytes(&path)),
                (JOBS, job.id.as_str().into(), to_js(job)?),
            ],
        )
        .await
    }

    pub async fn put_crop_path(&self, job_id: &str, path: &CropPathRecord) -> Result<(), ReframeError> {
        let path = records::seal(RecordKind::CropPath, path);
        self.put_all(&[CROP_PATHS], vec![(CROP_PATHS, job_id.into(), bytes(&path))]).await
    }

    /// Keeps the input file's handle (structured-cloned by IndexedDB).
    pub async fn put_handle(&self, job_id: &str, handle: &JsValue) -> Result<(), ReframeError> {
        self.put_all(&[HANDLES], vec![(HANDLES, job_id.into(), handle.clone())]).await
    }

    /// Every stored handle, by job id.
    pub async fn handles(&self) -> Result<Vec<(String, JsValue)>, ReframeError> {
        let entries = self.entries(HANDLES, None).await?;
        Ok(entries.into_iter().filter_map(|(k, v)| Some((k.as_string()?, v))).collect())
    }

    pub async fn put_analysis(&self, analysis_id: &str, json: &str) -> Result<(), ReframeError> {
        self.put_all(&[ANALYSES], vec![(ANALYSES, analysis_id.into(), json.into())]).await
    }

    pub async fn analysis(&self, analysis_id: &str) -> Result<Option<String>, ReframeError> {
        Ok(self.get(ANALYSES, analysis_id.into()).await?.and_then(|v| v.as_string()))
    }

    pub async fn crop_path(&self, job_id: &str) -> Result<Option<CropPathRecord>, ReframeError> {
        let Some(v) = self.get(CROP_PATHS, job_id.into()).await? else { return Ok(None) };
        let data = v.dyn_into::<js_sys::Uint8Array>().map(|a| a.to_vec()).unwrap_or_default();
        Ok(records::open_crop_path(&data).ok())
    }

    /// Stores a finished segment's index and the job's progress in one transaction.
    pub async fn commit_segment(&self, segment: &SegmentIndex, job: &JobRecord) -> Result<(), ReframeError> {
        let record = records::seal(RecordKind::Segment, segment);
        self.put_all(
            &[JOBS, SEGMENTS],
            vec![
                (SEGMENTS, pair_key(&job.id, segment.index), bytes(&record)),
                (JOBS, job.id.as_str().into(), to_js(job)?),
            ],
        )
        .await
    }

    /// The segment indexes stored for a job; damaged ones are left out (and counted).
    pub async fn segments(&self, job_id: &str) -> Result<(Vec<SegmentIndex>, u64), ReframeError> {
        let mut segments = Vec::new();
        let mut damaged = 0;
        for (index, value) in self.get_pairs(SEGMENTS, job_id).await? {
            let data = value.dyn_into::<js_sys::Uint8Array>().map(|a| a.to_vec()).unwrap_or_default();
            match records::open::<SegmentIndex>(RecordKind::Segment, &data) {
                Ok(s) if s.index == index => segments.push(s),
                _ => damaged += 1,
            }
        }
        Ok((segments, damaged))
    }

    /// Marks a job done and drops its segment indexes (the segments are now in the MP4).
    pub async fn commit_done(&self, job: &JobRecord) -> Result<(), ReframeError> {
        debug_assert_eq!(job.stage, JobStage::Done);
        let tx =
            self.db.transaction(&[JOBS, SEGMENTS], TransactionMode::ReadWrite).map_err(|e| db_error("write", e))?;
        let jobs = tx.object_store(JOBS).map_err(|e| db_error("write", e))?;
        jobs.put(&to_js(job)?, Some(&job.id.as_str().into()))
            .map_err(|e| db_error("write", e))?
            .await
            .map_err(|e| db_error("write", e))?;
        let segs = tx.object_store(SEGMENTS).map_err(|e| db_error("write", e))?;
        segs.delete(pairs_of(&job.id)?).map_err(|e| db_error("write", e))?.await.map_err(|e| db_error("write", e))?;
        tx.commit().map_err(|e| db_error("commit", e))?.await.map_err(|e| db_error("commit", e))?;
        Ok(())
    }

    /// Deletes a job's records (its analysis stays while another job uses it).
    pub async fn delete_job(&self, job: &JobRecord, keep_analysis: bool) -> Result<(), ReframeError> {
        let tx = self.db.transaction(&ALL_STORES, TransactionMode::ReadWrite).map_err(|e| db_error("delete", e))?;
        let store = |name: &str| tx.object_store(name).map_err(|e| db_error("delete", e));
        store(JOBS)?
            .delete(JsValue::from(job.id.as_str()))
            .map_err(|e| db_error("delete", e))?
            .await
            .map_err(|e| db_error("delete", e))?;
        store(CROP_PATHS)?
            .delete(JsValue::from(job.id.as_str()))
            .map_err(|e| db_error("delete", e))?
            .await
            .map_err(|e| db_error("delete", e))?;
        store(HANDLES)?
            .delete(JsValue::from(job.id.as_str()))
            .map_err(|e| db_error("delete", e))?
            .await
            .map_err(|e| db_error("delete", e))?;
        store(SEGMENTS)?
            .delete(pairs_of(&job.id)?)
            .map_err(|e| db_error("delete", e))?
            .await
            .map_err(|e| db_error("delete", e))?;
        if let (Some(a), false) = (&job.analysis_id, keep_analysis) {
            store(ANALYSES)?
                .delete(JsValue::from(a.as_str()))
                .map_err(|e| db_error("delete", e))?
                .await
                .map_err(|e| db_error("delete", e))?;
            store(ANALYSIS_CHUNKS)?
                .delete(pairs_of(a)?)
                .map_err(|e| db_error("delete", e))?
                .await
                .map_err(|e| db_error("delete", e))?;
        }
        tx.commit().map_err(|e| db_error("commit", e))?.await.map_err(|e| db_error("commit", e))?;
        Ok(())
    }

    /// Empties every store.
    pub async fn clear(&self) -> Result<(), ReframeError> {
        let tx = self.db.transaction(&ALL_STORES, TransactionMode::ReadWrite).map_err(|e| db_error("clear", e))?;
        for name in ALL_STORES {
            let s = tx.object_store(name).map_err(|e| db_error("clear", e))?;
            s.clear().map_err(|e| db_error("clear", e))?.await.map_err(|e| db_error("clear", e))?;
        }
        tx.commit().map_err(|e| db_error("commit", e))?.await.map_err(|e| db_error("commit", e))?;
        Ok(())
    }
}

/// Milliseconds since 1970, for the job's timestamps.
pub fn now_epoch_ms() -> f64 {
    js_sys::Date::now()
}
