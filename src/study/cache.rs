//! Saved per-model analyses in the output directory, so `--stages correlate,report` re-runs in
//! seconds. An entry is reused only when the model file's SHA-256 and the options both match.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::analysis::ModelAnalysis;
use crate::error::Result;
use crate::io::{OutDir, hex};
use crate::onnx::Limits;
use crate::options::AnalysisOptions;

/// Bump when the cached layout changes; older entries are then recomputed.
const CACHE_VERSION: u32 = 3;

/// The largest saved analysis read back (a 10⁴-layer model with its ESDs is tens of MB).
const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// What a cached analysis is keyed by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    /// `CACHE_VERSION` of the entry's layout.
    pub version: u32,
    /// The tailwatch version that wrote the entry.
    pub tool_version: String,
    /// SHA-256 of the model file.
    pub model_sha256: String,
    /// SHA-256 of the options' canonical JSON (`options_hash`).
    pub options_sha256: String,
    /// The loading limits: a tighter per-layer budget turns layers into `over_budget` rows, so
    /// an analysis made under other limits is not reused.
    pub limits: String,
}

impl CacheKey {
    /// The key of an analysis of this model file under these options and limits.
    pub fn new(model_sha256: &str, opts: &AnalysisOptions, limits: &Limits) -> CacheKey {
        CacheKey {
            version: CACHE_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            model_sha256: model_sha256.to_string(),
            options_sha256: options_hash(opts),
            limits: format!("{limits:?}"),
        }
    }
}

/// SHA-256 of the options' canonical JSON.
pub fn options_hash(opts: &AnalysisOptions) -> String {
    let json = serde_json::to_vec(opts).unwrap_or_default();
    hex(&Sha256::digest(&json))
}

#[derive(Serialize, Deserialize)]
struct Entry {
    key: CacheKey,
    analysis: ModelAnalysis,
}

fn entry_name(model: &str) -> String {
    format!("models/{model}.json")
}

/// The saved analysis of `model` if its key matches.
pub fn load(out: &OutDir, model: &str, key: &CacheKey) -> Option<ModelAnalysis> {
    let path = out.file(&entry_name(model)).ok()?;
    let text = String::from_utf8(crate::io::read_bounded(&path, MAX_ENTRY_BYTES).ok()?).ok()?;
    let entry: Entry = serde_json::from_str(&text).ok()?;
    (entry.key == *key).then_some(entry.analysis)
}

/// Save `analysis` of `model` under `key` as `models/<model>.json` in the output directory.
pub fn save(out: &OutDir, model: &str, key: &CacheKey, analysis: &ModelAnalysis) -> Result<()> {
    let entry = serde_json::json!({ "key": key, "analysis": analysis });
    out.write(&entry_name(model), entry.to_string().as_bytes())?;
    Ok(())
}
