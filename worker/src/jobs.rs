//! The stored jobs as the page sees them: listing, deleting one, deleting everything.

use crate::db::Db;
use crate::{detect, js, messages, store};
use reframe_core::analysis::{Analysis, Edits};
use reframe_core::job::JobRecord;
use reframe_core::protocol::FromWorker;
use reframe_core::ReframeError;
use wasm_bindgen::JsCast;

/// Posts `Jobs` with every stored job, most recent first, and (property `handles`, by job id)
/// the input files' handles the page can reopen on resume.
pub async fn post_list() {
    let (jobs, handles) = match Db::open().await {
        Ok(db) => (db.jobs().await.unwrap_or_default(), db.handles().await.unwrap_or_default()),
        Err(_) => Default::default(),
    };
    let by_id = js_sys::Object::new();
    for (id, h) in handles {
        js::set(&by_id, &id, h);
    }
    messages::post_with(
        &FromWorker::Jobs { jobs: jobs.iter().map(|j| j.list_entry()).collect() },
        Some(("handles", by_id.into())),
    );
}

/// Deletes a job: its output, its segments and its records (and its analysis, unless another
/// job uses it).
pub async fn delete(id: &str) -> Result<(), ReframeError> {
    let db = Db::open().await?;
    let mut jobs = db.jobs().await?;
    delete_from(&db, &mut jobs, id).await
}

/// Deletes job `id` given the stored `jobs` (which it leaves without that job).
async fn delete_from(db: &Db, jobs: &mut Vec<JobRecord>, id: &str) -> Result<(), ReframeError> {
    let Some(at) = jobs.iter().position(|j| j.id == id) else { return Ok(()) };
    // Refuse while a tab works on it.
    let lock = crate::lock::lock_job(id).await?;
    let job = jobs.remove(at);
    if let Some(path) = &job.output_path {
        store::remove(path).await;
    }
    store::remove(&store::job_dir(id)).await;
    let shared = job.analysis_id.is_some() && jobs.iter().any(|j| j.analysis_id == job.analysis_id);
    db.delete_job(&job, shared).await?;
    drop(lock);
    Ok(())
}

/// Deletes everything Reframe stored in this browser: jobs, outputs, analyses, the cached model
/// and the detector worker the service worker kept (the page itself stays kept, for offline use).
pub async fn delete_all() -> Result<(), ReframeError> {
    let db = Db::open().await?;
    db.clear().await?;
    store::remove(store::OUTPUT_DIR).await;
    store::remove(store::JOBS_DIR).await;
    if let Ok(caches) = js::worker_scope().caches() {
        let _ = js::wait(caches.delete(detect::CACHE_NAME), js::storage_error).await;
        forget_kept_detector(&caches).await;
    }
    Ok(())
}

/// Removes the detector worker's files from the service worker's caches (`www/sw.js`:
/// `reframe-app-<version>`); it keeps them again when auto mode next runs online.
async fn forget_kept_detector(caches: &web_sys::CacheStorage) {
    let Some(names) = js::settled(caches.keys()).await else { return };
    for name in js_sys::Array::from(&names).iter().filter_map(|n| n.as_string()) {
        if !name.starts_with("reframe-app-") {
            continue;
        }
        let Some(cache) = js::settled(caches.open(&name)).await else { continue };
        let cache: web_sys::Cache = cache.unchecked_into();
        let Some(requests) = js::settled(cache.keys()).await else { continue };
        for request in js_sys::Array::from(&requests).iter() {
            let request: web_sys::Request = request.unchecked_into();
            if request.url().contains("/reframe-detect-worker") {
                js::settled(cache.delete_with_request(&request)).await;
            }
        }
    }
}

/// Deletes finished jobs, least recently used first, until finished outputs fit in `keep_bytes`.
pub async fn evict(keep_bytes: u64, except: &str) -> Result<usize, ReframeError> {
    let db = Db::open().await?;
    let mut jobs = db.jobs().await?;
    let ids = reframe_core::job::evictions(&jobs, keep_bytes, except);
    for id in &ids {
        delete_from(&db, &mut jobs, id).await?;
    }
    Ok(ids.len())
}

/// Keeps the editor's `edits` with the stored analysis `analysis_id` (so a reload, and the
/// exported analysis file, have them).
pub async fn save_edits(analysis_id: &str, edits: Edits) -> Result<(), ReframeError> {
    let db = Db::open().await?;
    let Some(json) = db.analysis(analysis_id).await? else {
        return Err(ReframeError::Storage("the analysis is no longer stored".into()));
    };
    let mut analysis = Analysis::from_json(&json)?;
    analysis.edits = edits;
    db.put_analysis(analysis_id, &analysis.to_json()?).await
}

/// Posts a stored job's analysis as a file (`AnalysisFile`), or a notice when there is none.
pub async fn export_analysis(id: &str) -> Result<(), ReframeError> {
    let db = Db::open().await?;
    let job = db.job(id).await?;
    let json = match job.as_ref().and_then(|j| j.analysis_id.clone()) {
        Some(aid) => db.analysis(&aid).await?,
        None => None,
    };
    match (job, json) {
        (Some(job), Some(json)) => {
            let stem = job.download_name.trim_end_matches(".mp4").to_string();
            messages::post(&FromWorker::AnalysisFile { file_name: format!("{stem}-analysis.json"), json });
        }
        _ => messages::post(&FromWorker::Notice {
            message: "This job has no stored analysis (it is not finished, or not in \"Follow people\" mode).".into(),
        }),
    }
    Ok(())
}
