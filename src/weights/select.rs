//! The `layers` option (WeightWatcher's `layers=[...]`): keep only the layers named by id or
//! name, or leave out the layers of negative ids. Layers keep their `layer_id`s, as in
//! WeightWatcher, and the layers left out are not reported at all (they are not "skipped").

use super::Extraction;
use crate::error::{Error, Result};
use crate::options::LayerRef;

impl Extraction<'_> {
    /// Apply a `layers` selection (validated by `AnalysisOptions::validate`): an entry that
    /// matches no layer (nor a skipped candidate's id or name) is an [`Error::Options`], so that
    /// a typo does not silently analyse nothing.
    pub(super) fn select(&mut self, sel: &[LayerRef]) -> Result<()> {
        if sel.is_empty() {
            return Ok(());
        }
        let id_of = |r: &LayerRef| match r {
            LayerRef::Id(i) => Some(*i),
            LayerRef::Name(_) => None,
        };
        let exclude = sel.iter().filter_map(id_of).any(|i| i < 0);
        let matches = |r: &LayerRef, id: Option<usize>, name: &str| match r {
            LayerRef::Id(i) => id.is_some_and(|id| i.unsigned_abs() == id as u64),
            LayerRef::Name(n) => !exclude && n == name,
        };
        let unmatched: Vec<String> = sel
            .iter()
            .filter(|r| {
                !self
                    .layers
                    .iter()
                    .any(|l| matches(r, Some(l.layer_id), &l.name))
                    && !self.skipped.iter().any(|s| matches(r, s.layer_id, &s.name))
            })
            .map(ToString::to_string)
            .collect();
        if !unmatched.is_empty() {
            let ids = match (self.layers.first(), self.layers.last()) {
                (Some(a), Some(b)) => format!("layer ids {}..={}", a.layer_id, b.layer_id),
                _ => "no weight layers".to_string(),
            };
            return Err(Error::Options(format!(
                "layers: {} match no layer of {} ({ids})",
                unmatched.join(", "),
                self.model.path().display()
            )));
        }
        let kept =
            |id: Option<usize>, name: &str| sel.iter().any(|r| matches(r, id, name)) != exclude;
        let keep: Vec<bool> = (self.layers.iter())
            .map(|l| kept(Some(l.layer_id), &l.name))
            .collect();
        let mut flags = keep.iter();
        self.layers
            .retain(|_| flags.next().copied().unwrap_or(false));
        let mut flags = keep.iter();
        self.recipes
            .retain(|_| flags.next().copied().unwrap_or(false));
        self.skipped.retain(|s| kept(s.layer_id, &s.name));
        Ok(())
    }
}

#[cfg(test)]
#[path = "select_tests.rs"]
mod tests;
