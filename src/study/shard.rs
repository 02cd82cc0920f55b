//! Sharded studies: `--shard K/N` analyses one share of the models, `--merge` combines shares.
//!
//! Model i (0-based, in study-file order) belongs to shard `i mod N + 1`: a stable assignment
//! that needs no coordination, so any batch scheduler (Slurm array, Kubernetes indexed Job) can
//! run the shards anywhere. A shard writes the saved analyses of its models (`models/*.json`,
//! the study cache) and a manifest `shards/K-of-N.json` into its output directory; shards may
//! share one directory. Merging checks that the manifests come from the same study file and
//! options and cover every shard once, copies the saved analyses into the final output directory
//! and runs the correlate and report stages over them without recomputing anything, so the
//! merged report equals the unsharded one (except timings.json).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::cache;
use super::config::{Stage, Study};
use super::run::{self, Progress, StudyOutcome};
use crate::error::{Error, Result};
use crate::io::{self, OutDir, hex};
use crate::schema::ModelStatus;

/// The largest manifest read (a few hundred bytes per model).
const MAX_MANIFEST_BYTES: u64 = 64 << 20;
/// The largest saved analysis copied by a merge.
const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// Shard `index` of `count`, 1-based as batch schedulers number array tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based index of this shard.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// Parse `K/N` with 1 ≤ K ≤ N.
    pub fn parse(s: &str) -> Result<Shard> {
        let bad = || Error::Options(format!("--shard expects K/N with 1 <= K <= N, got {s:?}"));
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether model `i` (0-based, study order) belongs to this shard.
    pub fn owns(self, i: usize) -> bool {
        i % self.count == self.index - 1
    }

    fn manifest_name(self) -> String {
        format!("shards/{}-of-{}.json", self.index, self.count)
    }
}

/// What one shard did, written as `shards/K-of-N.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The study's name.
    pub study: String,
    /// SHA-256 of the study file's text and of the resolved options: a merge refuses shards of
    /// another study or other options.
    pub config_sha256: String,
    /// SHA-256 of the resolved options.
    pub options_sha256: String,
    /// Which shard this is.
    pub shard: Shard,
    /// The models this shard owned, and how each went.
    pub models: Vec<ShardModel>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// One model of a shard.
pub struct ShardModel {
    /// Its position in the study.
    pub index: usize,
    /// Its name.
    pub name: String,
    /// Analyzed, reused or failed.
    pub status: ModelStatus,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

fn config_sha256(study: &Study) -> String {
    hex(&Sha256::digest(study.text.as_bytes()))
}

/// Analyze the models of `shard` into `out` and write its manifest. No correlations or report:
/// those need every model and belong to the merge.
pub fn run_shard(
    study: &Study,
    shard: Shard,
    out: &OutDir,
    progress: &dyn Progress,
) -> Result<(StudyOutcome, Manifest)> {
    let mut sub = study.clone();
    let owned: Vec<usize> = (0..study.spec.models.len())
        .filter(|&i| shard.owns(i))
        .collect();
    sub.spec.models = pick(&study.spec.models, &owned);
    sub.model_paths = pick(&study.model_paths, &owned);
    sub.spec
        .stages
        .retain(|s| !matches!(s, Stage::Correlate | Stage::Report));
    let outcome = run::run(&sub, out, progress)?;
    let manifest = Manifest {
        study: study.spec.name.clone(),
        config_sha256: config_sha256(study),
        options_sha256: cache::options_hash(&study.options),
        shard,
        models: owned
            .iter()
            .zip(&outcome.models)
            .map(|(&index, m)| ShardModel {
                index,
                name: m.name.clone(),
                status: m.status,
                error: m.error.clone(),
            })
            .collect(),
    };
    out.write_json(&shard.manifest_name(), &manifest)?;
    Ok((outcome, manifest))
}

fn pick<T: Clone>(all: &[T], idx: &[usize]) -> Vec<T> {
    idx.iter().filter_map(|&i| all.get(i).cloned()).collect()
}

/// Combine shard directories into `out`: check the manifests, copy the saved analyses, then run
/// the study over them with nothing left to compute. A model whose shard failed stays failed.
pub fn merge(
    study: &Study,
    shard_dirs: &[PathBuf],
    out: &OutDir,
    progress: &dyn Progress,
) -> Result<StudyOutcome> {
    let manifests = read_manifests(study, shard_dirs)?;
    for (dir, m) in &manifests {
        for sm in m
            .models
            .iter()
            .filter(|sm| sm.status != ModelStatus::Failed)
        {
            copy_entry(dir, &sm.name, out)?;
        }
    }
    run::run_saved(study, out, progress)
}

/// Every `shards/*.json` of the given directories, checked to be one complete set of this study.
fn read_manifests(study: &Study, dirs: &[PathBuf]) -> Result<Vec<(PathBuf, Manifest)>> {
    let mut found: Vec<(PathBuf, Manifest)> = Vec::new();
    for dir in dirs {
        let sdir = dir.join("shards");
        let entries = std::fs::read_dir(&sdir).map_err(|e| Error::io(&sdir, e))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for p in paths {
            found.push((dir.clone(), read_manifest(&p)?));
        }
    }
    check_manifests(study, &found)?;
    Ok(found)
}

fn read_manifest(path: &Path) -> Result<Manifest> {
    let bytes = io::read_bounded(path, MAX_MANIFEST_BYTES)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::config(path, format!("invalid shard manifest: {e}")))
}

fn check_manifests(study: &Study, found: &[(PathBuf, Manifest)]) -> Result<()> {
    let bad = |m: String| Err(Error::config(&study.file, m));
    let Some((_, first)) = found.first() else {
        return bad(
            "--merge: no shard manifests (shards/K-of-N.json) in the given directories".into(),
        );
    };
    let n = first.shard.count;
    let (config, options) = (config_sha256(study), cache::options_hash(&study.options));
    let mut seen = vec![false; n];
    for (dir, m) in found {
        let at = dir.display();
        if m.config_sha256 != config || m.options_sha256 != options {
            return bad(format!(
                "--merge: shard {}/{} in {at} was run from another study file or options",
                m.shard.index, m.shard.count
            ));
        }
        if m.shard.count != n {
            return bad(format!(
                "--merge: shards of {n} and of {} mixed",
                m.shard.count
            ));
        }
        match seen.get_mut(m.shard.index.wrapping_sub(1)) {
            Some(s) if !*s => *s = true,
            Some(_) => return bad(format!("--merge: shard {}/{n} given twice", m.shard.index)),
            None => return bad(format!("--merge: bad shard {}/{n} in {at}", m.shard.index)),
        }
        let owned = (0..study.spec.models.len()).filter(|&i| m.shard.owns(i));
        let names: Vec<&str> = m.models.iter().map(|x| x.name.as_str()).collect();
        let expected: Vec<&str> = owned
            .filter_map(|i| study.spec.models.get(i).map(|e| e.name.as_str()))
            .collect();
        if names != expected {
            return bad(format!(
                "--merge: shard {}/{n} in {at} lists other models than this study assigns it",
                m.shard.index
            ));
        }
    }
    let missing: Vec<String> = (seen.iter().enumerate())
        .filter(|(_, s)| !**s)
        .map(|(i, _)| format!("{}/{n}", i + 1))
        .collect();
    if !missing.is_empty() {
        return bad(format!("--merge: missing shards {}", missing.join(", ")));
    }
    Ok(())
}

/// Copy one saved analysis into the merged output (unless it is the same directory).
fn copy_entry(dir: &Path, name: &str, out: &OutDir) -> Result<()> {
    let rel = format!("models/{name}.json");
    let dest = out.file(&rel)?;
    let src = dir.join(&rel);
    let same = matches!(
        (src.canonicalize(), dest.canonicalize()),
        (Ok(a), Ok(b)) if a == b
    );
    if !same {
        out.write(&rel, &io::read_bounded(&src, MAX_ENTRY_BYTES)?)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "shard_tests.rs"]
mod tests;
