//! The load-time validation pass (onnx-weights.md §7–§8): structure limits, every tensor's header
//! and payload (external references opened and bounds-checked), the per-model data budget, and
//! the graph's value names (duplicates, missing tensors, cycles), through every subgraph. A
//! failure here is a classified run error (exit 2): the file itself is unusable.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use tract_onnx::pb::{GraphProto, NodeProto, TensorProto};

use super::source::Payloads;
use super::{Limits, node_label, tensor};
use crate::error::{ModelErrorKind as K, display_name};

/// A classified validation failure.
pub type Problem = (K, String);

/// Validate the main graph and everything under it; `payloads` finds tensors' raw bytes.
pub fn model<'a>(
    g: &'a GraphProto,
    payloads: Payloads<'a>,
    dir: &'a Path,
    limits: &'a Limits,
) -> Result<(), Problem> {
    let mut v = Validator {
        payloads,
        dir,
        limits,
        data_bytes: 0,
        scopes: Vec::new(),
    };
    v.graph(g, 0, "")
}

struct Validator<'a> {
    payloads: Payloads<'a>,
    dir: &'a Path,
    limits: &'a Limits,
    /// Declared tensor data so far (inline and external), for the per-model budget.
    data_bytes: u64,
    /// Names defined by each enclosing graph, innermost last (subgraphs see outer values).
    scopes: Vec<HashSet<&'a str>>,
}

fn located(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" in subgraph {}", display_name(path))
    }
}

impl<'a> Validator<'a> {
    fn graph(&mut self, g: &'a GraphProto, depth: usize, path: &str) -> Result<(), Problem> {
        let at = located(path);
        self.counts(g, depth, &at)?;
        for t in &g.initializer {
            self.tensor(t, &format!("initializer{at}"))?;
        }
        for s in &g.sparse_initializer {
            for t in s.values.iter().chain(s.indices.iter()) {
                self.tensor(t, &format!("sparse initializer{at}"))?;
            }
            tensor::shape_of(&s.dims, self.limits)
                .map_err(|e| classify(e, &format!("sparse initializer{at}")))?;
        }
        for (i, n) in g.node.iter().enumerate() {
            self.node_tensors(n, i, &at)?;
        }
        let defs = definitions(g).map_err(|m| (K::DuplicateName, format!("{m}{at}")))?;
        self.scopes.push(defs);
        let res = self.names_and_subgraphs(g, depth, path, &at);
        self.scopes.pop();
        res?;
        acyclic(g).map_err(|m| (K::Cycle, format!("{m}{at}")))
    }

    fn counts(&self, g: &GraphProto, depth: usize, at: &str) -> Result<(), Problem> {
        let l = self.limits;
        if depth > l.max_subgraph_depth {
            return Err((
                K::TooDeep,
                format!("subgraphs nested deeper than {}{at}", l.max_subgraph_depth),
            ));
        }
        let inits = g.initializer.len() + g.sparse_initializer.len();
        let attrs: usize = g.node.iter().map(|n| n.attribute.len()).sum();
        for (what, n, max) in [
            ("nodes", g.node.len(), l.max_nodes),
            ("initializers", inits, l.max_initializers),
            ("attributes", attrs, l.max_attributes),
        ] {
            if n > max {
                return Err((
                    K::TooLarge,
                    format!("{n} {what} exceed the limit {max}{at}"),
                ));
            }
        }
        Ok(())
    }

    fn tensor(&mut self, t: &'a TensorProto, what: &str) -> Result<(), Problem> {
        let label = format!("{what} {:?}", display_name(&t.name));
        let raw = self.payloads.raw(t).as_slice();
        let bytes =
            tensor::validate(self.dir, t, raw, self.limits).map_err(|e| classify(e, &label))?;
        self.data_bytes = self.data_bytes.saturating_add(bytes);
        let budget = self.limits.model_memory_budget;
        if self.data_bytes > budget {
            return Err((
                K::OverBudget,
                format!(
                    "{label}: tensor data reaches {} bytes, over the per-model budget of {budget}",
                    self.data_bytes
                ),
            ));
        }
        Ok(())
    }

    fn node_tensors(&mut self, n: &'a NodeProto, index: usize, at: &str) -> Result<(), Problem> {
        let label = node_label(n, index);
        // Every tensor and subgraph present is checked whatever the attribute's declared type:
        // prost decodes them all, so a mistyped one must not escape the loading rules. Reading
        // an attribute's value goes through `attr`, which checks the type.
        for a in &n.attribute {
            let what = format!(
                "attribute {} of node {}{at}",
                display_name(&a.name),
                display_name(&label)
            );
            for t in a.t.iter().chain(a.tensors.iter()) {
                self.tensor(t, &what)?;
            }
            for s in a.sparse_tensor.iter().chain(a.sparse_tensors.iter()) {
                for t in s.values.iter().chain(s.indices.iter()) {
                    self.tensor(t, &what)?;
                }
            }
        }
        Ok(())
    }

    /// Every node input is defined here or in an enclosing graph; then recurse into subgraphs.
    fn names_and_subgraphs(
        &mut self,
        g: &'a GraphProto,
        depth: usize,
        path: &str,
        at: &str,
    ) -> Result<(), Problem> {
        for (i, n) in g.node.iter().enumerate() {
            let label = node_label(n, i);
            for input in n.input.iter().filter(|s| !s.is_empty()) {
                if !self.scopes.iter().any(|s| s.contains(input.as_str())) {
                    return Err((
                        K::MissingTensor,
                        format!(
                            "node {} reads {:?}, which nothing defines{at}",
                            display_name(&label),
                            display_name(input)
                        ),
                    ));
                }
            }
            for a in &n.attribute {
                for sub in a.g.iter().chain(a.graphs.iter()) {
                    let prefix = if path.is_empty() {
                        String::new()
                    } else {
                        format!("{path}/")
                    };
                    let p = format!("{prefix}{label}/{}", a.name);
                    self.graph(sub, depth + 1, &p)?;
                }
            }
        }
        Ok(())
    }
}

/// Map a tensor check failure to its class; decode-time problems that still surface here (they
/// should not) count as a bad payload.
fn classify(e: tensor::TensorError, label: &str) -> Problem {
    let kind = match &e {
        tensor::TensorError::Rejected { kind, .. } => *kind,
        tensor::TensorError::OverBudget { .. } => K::OverBudget,
        tensor::TensorError::Unsupported(_) | tensor::TensorError::Malformed(_) => K::BadPayload,
    };
    (kind, format!("{label}: {e}"))
}

/// The names one graph defines. A name defined twice is ambiguous: the weights a runtime would
/// use cannot be known, so the file is refused rather than guessed (§3.4). Initializers listed
/// again as graph inputs (IR < 4) are one definition.
pub fn definitions(g: &GraphProto) -> Result<HashSet<&str>, String> {
    let inits: HashSet<&str> = g.initializer.iter().map(|t| t.name.as_str()).collect();
    let names = g
        .input
        .iter()
        .map(|i| i.name.as_str())
        .filter(|n| !inits.contains(n))
        .chain(g.initializer.iter().map(|t| t.name.as_str()))
        .chain(
            g.sparse_initializer
                .iter()
                .filter_map(|s| s.values.as_ref().map(|v| v.name.as_str())),
        )
        .chain(
            g.node
                .iter()
                .flat_map(|n| n.output.iter().map(String::as_str)),
        );
    let mut defs = HashSet::new();
    for name in names.filter(|n| !n.is_empty()) {
        if !defs.insert(name) {
            return Err(format!(
                "value {:?} is defined more than once in graph {:?}",
                display_name(name),
                display_name(&g.name)
            ));
        }
    }
    Ok(defs)
}

/// Names a node reads, including those its subgraphs read from outer scopes (implicit inputs).
fn reads(n: &NodeProto, out: &mut Vec<String>) {
    out.extend(n.input.iter().filter(|s| !s.is_empty()).cloned());
    for a in &n.attribute {
        for g in a.g.iter().chain(a.graphs.iter()) {
            for m in &g.node {
                reads(m, out);
            }
        }
    }
}

/// Kahn's algorithm over the nodes of one graph: a cycle leaves nodes that never become ready.
/// A graph with a cycle has no execution order, so the values on it are undefined.
fn acyclic(g: &GraphProto) -> Result<(), String> {
    let producer: HashMap<&str, usize> = g
        .node
        .iter()
        .enumerate()
        .flat_map(|(i, n)| n.output.iter().map(move |o| (o.as_str(), i)))
        .filter(|(o, _)| !o.is_empty())
        .collect();
    let mut indegree = vec![0usize; g.node.len()];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); g.node.len()];
    for (i, n) in g.node.iter().enumerate() {
        let mut names = Vec::new();
        reads(n, &mut names);
        let deps: HashSet<usize> = names
            .iter()
            .filter_map(|s| producer.get(s.as_str()).copied())
            .collect();
        for d in deps {
            if let (Some(u), Some(k)) = (users.get_mut(d), indegree.get_mut(i)) {
                u.push(i);
                *k += 1;
            }
        }
    }
    let mut ready: Vec<usize> = (0..g.node.len())
        .filter(|&i| indegree.get(i) == Some(&0))
        .collect();
    let mut done = 0;
    while let Some(i) = ready.pop() {
        done += 1;
        for &u in users.get(i).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(k) = indegree.get_mut(u) {
                *k -= 1;
                if *k == 0 {
                    ready.push(u);
                }
            }
        }
    }
    if done == g.node.len() {
        return Ok(());
    }
    let stuck = indegree.iter().position(|&k| k > 0).unwrap_or(0);
    let label = g
        .node
        .get(stuck)
        .map_or_else(String::new, |n| node_label(n, stuck));
    Err(format!(
        "nodes form a cycle (node {} waits on it forever)",
        display_name(&label)
    ))
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
