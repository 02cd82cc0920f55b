//! The op-aware walk (onnx-weights.md §4, §9): every node of the graph and its subgraphs, the
//! weight slots its op has, each resolved to a constant expression and made a layer, tied to an
//! earlier one, or skipped with a reason.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tract_onnx::pb::GraphProto;

use super::describe::describe_expr;
use super::fold::{self, Eval, Expr, Leaf, LeafSrc};
use super::ops::{self, Outcome, Plan};
use super::scan::readers_of;
use super::scope::{Frame, Scopes};
use super::view::{self, Layout};
use super::{Consumer, Extraction, LayerKind, Recipe, Skipped, WeightLayer, dedup};
use crate::error::{ModelErrorKind as K, display_name};
use crate::onnx::attr::Node;
use crate::onnx::tensor::{self, TensorError};
use crate::onnx::{Model, dtype};
use crate::options::{AnalysisOptions, GroupedConv};
use crate::schema::SkipReason;

/// A model the walk cannot go on with: its class and message.
pub(super) type Problem = (K, String);

/// Where a node is, for messages: "" in the main graph.
fn in_subgraph(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" in subgraph {}", display_name(path))
    }
}

/// Walk the main graph and its subgraphs into `x`, then list the unused constants.
pub(super) fn walk(x: &mut Extraction<'_>, opts: &AnalysisOptions) -> Result<(), Problem> {
    let model = x.model;
    let mut w = Walker {
        x,
        sc: Scopes::new(model.onnx_opset()),
        next_frame: 0,
        opts,
        by_key: HashMap::new(),
        by_content: dedup::Registry::default(),
        used_leaves: HashSet::new(),
        next_id: 0,
    };
    w.graph(model.graph(), String::new())?;
    let used = std::mem::take(&mut w.used_leaves);
    report_unused_constants(x, model.graph(), &used);
    Ok(())
}

struct Walker<'a, 'm> {
    x: &'a mut Extraction<'m>,
    sc: Scopes<'m>,
    next_frame: usize,
    opts: &'a AnalysisOptions,
    /// Identity key → layer index.
    by_key: HashMap<Vec<usize>, usize>,
    /// Layers by weight content (ties across subgraphs).
    by_content: dedup::Registry<'m>,
    used_leaves: HashSet<usize>,
    next_id: usize,
}

impl<'m> Walker<'_, 'm> {
    fn graph(&mut self, g: &'m GraphProto, path: String) -> Result<(), Problem> {
        let frame = Frame::new(self.next_frame, g).map_err(|m| (K::DuplicateName, m))?;
        self.next_frame += 1;
        self.sc.frames.push(frame);
        let at = in_subgraph(&path);
        for (k, n) in g.node.iter().enumerate() {
            let node = Node::new(n, k);
            let label = crate::onnx::node_label(n, k);
            let cands = ops::candidates(&mut self.sc, node, self.opts.rnn)
                .map_err(|e| (K::BadAttribute, format!("{e}{at}")))?;
            for c in cands {
                let consumer = Consumer {
                    node: label.clone(),
                    op: n.op_type.clone(),
                    path: path.clone(),
                    slot: c.slot,
                };
                self.candidate(c.input, consumer, c.outcome)?;
            }
            let subs = node
                .subgraphs()
                .map_err(|e| (K::BadAttribute, format!("{e}{at}")))?;
            for (a, sub) in subs {
                let p = if path.is_empty() {
                    format!("{label}/{}", a.name)
                } else {
                    format!("{path}/{label}/{}", a.name)
                };
                self.graph(sub, p)?;
            }
        }
        self.sc.frames.pop();
        Ok(())
    }

    fn skip(
        &mut self,
        id: Option<usize>,
        name: String,
        op: &str,
        reason: SkipReason,
        detail: String,
    ) {
        self.x.skipped.push(Skipped {
            layer_id: id,
            name,
            op: op.to_string(),
            reason,
            detail,
        });
    }

    /// Make `outcome` a layer, a tie or a skip. An attribute error met while folding the weight
    /// fails the walk (the model breaks the op's schema); other fold problems skip the weight.
    fn candidate(
        &mut self,
        input: String,
        consumer: Consumer,
        outcome: Outcome<'m>,
    ) -> Result<(), Problem> {
        let op = consumer.op.clone();
        let plan = match outcome {
            Outcome::Runtime => {
                let detail = format!(
                    "{} input {} is computed at run time",
                    consumer.node, consumer.slot
                );
                self.skip(None, input, &op, SkipReason::RuntimeOperand, detail);
                return Ok(());
            }
            Outcome::Skip(reason, detail) => {
                self.skip(None, input, &op, reason, detail);
                return Ok(());
            }
            Outcome::Plan(p) => p,
        };
        let key: Vec<usize> = std::iter::once(Arc::as_ptr(&plan.base) as *const u8 as usize)
            .chain(plan.key_extra.iter().copied())
            .collect();
        if let Some(&li) = self.by_key.get(&key) {
            self.tie(li, consumer, "tied");
            return Ok(());
        }
        mark_leaves(&plan.expr, &mut self.used_leaves);
        let info = describe_expr(&plan.expr, self.x.model);
        let id = self.next_id;
        self.next_id += 1;
        let name = info.name.clone().unwrap_or(input);
        let shape = match fold::shape(&plan.expr, self.x.model) {
            Ok(s) => s,
            Err(e) if fold::is_attr_error(&e) => {
                return Err((
                    K::BadAttribute,
                    format!(
                        "{e} (folding input {} of node {} ({}){})",
                        consumer.slot,
                        display_name(&consumer.node),
                        display_name(&op),
                        in_subgraph(&consumer.path)
                    ),
                ));
            }
            Err(e) => {
                let reason = match e {
                    TensorError::Unsupported(_) => SkipReason::UnsupportedDtype,
                    TensorError::OverBudget { .. } => SkipReason::OverBudget,
                    TensorError::Malformed(_) | TensorError::Rejected { .. } => {
                        SkipReason::Malformed
                    }
                };
                self.skip(Some(id), name, &op, reason, e.to_string());
                return Ok(());
            }
        };
        let kind = plan.kind.or(match (&plan.layout, shape.len()) {
            (Layout::Conv { .. }, 3) => Some(LayerKind::Conv1d),
            (Layout::Conv { .. }, 4) => Some(LayerKind::Conv2d),
            (Layout::Conv { .. }, 5) => Some(LayerKind::Conv3d),
            _ => None,
        });
        let Some(kind) = kind else {
            let d = format!("weight of rank {} is not a supported kernel", shape.len());
            self.skip(Some(id), name, &op, SkipReason::UnsupportedRank, d);
            return Ok(());
        };
        if matches!(plan.layout, Layout::Stacked { .. }) && shape.len() < 2 {
            let d = format!("rank-{} constant is a vector, not a matrix", shape.len());
            self.skip(Some(id), name, &op, SkipReason::NotAMatrix, d);
            return Ok(());
        }
        let view = match view::view_for(&plan.layout, &shape, self.opts.grouped_conv) {
            Ok(v) => v,
            Err(d) => {
                self.skip(Some(id), name, &op, SkipReason::UnsupportedShape, d);
                return Ok(());
            }
        };
        let mut flags = plan.flags.clone();
        flags.extend(info.flags.iter().cloned());
        if let Layout::Conv { group } = plan.layout
            && group > 1
        {
            flags.push(format!("group_{group}"));
            if self.opts.grouped_conv == GroupedConv::Blocks {
                flags.push("grouped_conv_blocks".into());
            }
        }
        if matches!(plan.layout, Layout::Stacked { rows: None }) && shape.len() > 2 {
            flags.push(format!("batch_shape{:?}", &shape[..shape.len() - 2]));
        }
        if !flags.iter().any(|f| f == "synthetic_constant") && self.all_equal(&plan.expr) {
            flags.push("synthetic_constant".into());
        }
        let content = if flags.iter().any(|f| f == "synthetic_constant") {
            None
        } else {
            content_of(&plan, &shape, self.x.model)
        };
        if let Some(c) = &content
            && let Some(li) = self.by_content.find(c)
        {
            self.next_id -= 1;
            self.by_key.insert(key, li);
            self.tie(li, consumer, "tied_by_content");
            return Ok(());
        }
        let li = self.x.layers.len();
        self.by_key.insert(key, li);
        if let Some(c) = content {
            self.by_content.insert(c, li);
        }
        let stored_shape = info.stored_shape.clone().unwrap_or_else(|| shape.clone());
        self.x.layers.push(WeightLayer {
            layer_id: id,
            name,
            kind,
            op: op.clone(),
            path: consumer.path.clone(),
            consumers: vec![consumer],
            stored_shape,
            dtype: info.dtype,
            origin: info.origin,
            source: info.source,
            flags,
            tied: vec![],
            view,
            bn: plan.bn.as_ref().map(|b| b.name.clone()),
        });
        self.x.recipes.push(Recipe {
            expr: plan.expr,
            layout: plan.layout,
            bn: plan.bn,
        });
        Ok(())
    }

    fn tie(&mut self, li: usize, consumer: Consumer, flag: &str) {
        if let Some(l) = self.x.layers.get_mut(li) {
            if !l.flags.iter().any(|f| f == flag) {
                l.flags.push(flag.to_string());
            }
            l.consumers.push(consumer.clone());
            l.tied.push(consumer);
        }
    }

    /// Whether every value is equal (a synthetic constant, §3.2). Evaluated only for folded
    /// expressions and in-memory leaves; external data is not read here.
    fn all_equal(&self, e: &Expr<'_>) -> bool {
        // A leaf, or a leaf with its last two axes swapped (the same values permuted), is
        // answered from its payload, stopping at the first differing value: decoding a big layer
        // here would cost its full f64 copy at extraction.
        let leaf = match e {
            Expr::SwapLast2(x) if ops::static_rank(x).is_some_and(|r| r >= 2) => x.as_ref(),
            e => e,
        };
        // A block-quantised weight is never a synthetic constant worth the f64 copy of the layer
        // (an int4 lm_head's would be 4 GB); an all-zero one is refused when it is decoded.
        if matches!(leaf, Expr::Blocked(_)) {
            return false;
        }
        if let Expr::Leaf(Leaf {
            src: LeafSrc::Init(t) | LeafSrc::ConstTensor(t),
            ..
        }) = leaf
        {
            return !tensor::is_external(t) && tensor::all_equal(self.x.model, t).unwrap_or(false);
        }
        let leaf_inline = |t: &tract_onnx::pb::TensorProto| !tensor::is_external(t);
        let ok = match e {
            Expr::Leaf(Leaf {
                src: LeafSrc::Init(t) | LeafSrc::ConstTensor(t),
                ..
            }) => leaf_inline(t),
            Expr::Leaf(_) => true,
            _ => !contains_external(e),
        };
        if !ok {
            return false;
        }
        match Eval::new(self.x.model).eval(e) {
            Ok(d) => d.data.len() > 1 && d.data.windows(2).all(|w| w[0] == w[1]),
            Err(_) => false,
        }
    }
}

fn contains_external(e: &Expr<'_>) -> bool {
    match e {
        Expr::Leaf(Leaf {
            src: LeafSrc::Init(t) | LeafSrc::ConstTensor(t),
            ..
        }) => tensor::is_external(t),
        Expr::Leaf(_) => false,
        Expr::Op { inputs, .. } => inputs.iter().flatten().any(|i| contains_external(i)),
        Expr::Dequant { x, scale, zp, .. } => {
            contains_external(x)
                || scale.as_deref().is_some_and(contains_external)
                || zp.as_deref().is_some_and(contains_external)
        }
        Expr::Blocked(b) => b.parts().any(|p| contains_external(p)),
        Expr::SwapLast2(x) | Expr::Scale(x, _) => contains_external(x),
    }
}

/// The content of a plain in-file leaf (dtype, effective shape, payload) for ties by content:
/// catches exporters that duplicate an initializer per subgraph (§9). Dequantised or scaled
/// weights are not merged.
fn content_of<'m>(
    plan: &Plan<'m>,
    shape: &[usize],
    model: &'m Model,
) -> Option<dedup::Content<'m>> {
    if !plan
        .key_extra
        .iter()
        .all(|&k| k == 0 || k == 1f64.to_bits() as usize)
    {
        return None;
    }
    let base = match plan.expr.as_ref() {
        Expr::SwapLast2(b) => b.as_ref(),
        e => e,
    };
    let Expr::Leaf(Leaf {
        src: LeafSrc::Init(t) | LeafSrc::ConstTensor(t),
        ..
    }) = base
    else {
        return None;
    };
    dedup::Content::new(t.data_type, shape, model.raw_data(t))
}

fn mark_leaves(e: &Expr<'_>, used: &mut HashSet<usize>) {
    match e {
        Expr::Leaf(l) => {
            used.insert(leaf_id(l));
        }
        Expr::Op { inputs, .. } => inputs.iter().flatten().for_each(|i| mark_leaves(i, used)),
        Expr::Dequant { x, scale, zp, .. } => {
            mark_leaves(x, used);
            scale
                .iter()
                .chain(zp.iter())
                .for_each(|i| mark_leaves(i, used));
        }
        Expr::Blocked(b) => b.parts().for_each(|p| mark_leaves(p, used)),
        Expr::SwapLast2(x) | Expr::Scale(x, _) => mark_leaves(x, used),
    }
}

fn leaf_id(l: &Leaf<'_>) -> usize {
    match &l.src {
        LeafSrc::Init(t) | LeafSrc::ConstTensor(t) => *t as *const _ as usize,
        LeafSrc::Sparse(s) => *s as *const _ as usize,
        LeafSrc::ConstAttr(a, _) => *a as *const _ as usize,
    }
}

/// Rank ≥ 2 float initializers that feed no weight slot: listed as skipped so that nothing
/// disappears silently (§1; e.g. the `pos_table` of quirks.onnx).
fn report_unused_constants(x: &mut Extraction<'_>, g: &GraphProto, used: &HashSet<usize>) {
    let readers = readers_of(g);
    for t in &g.initializer {
        if t.dims.len() >= 2
            && dtype::is_float(t.data_type)
            && !used.contains(&(t as *const _ as usize))
        {
            let op = readers
                .get(t.name.as_str())
                .and_then(|v| v.first())
                .map(|(n, _, _)| n.op_type.clone())
                .unwrap_or_default();
            x.skipped.push(Skipped {
                layer_id: None,
                name: t.name.clone(),
                op: op.clone(),
                reason: SkipReason::NotAWeightSlot,
                detail: if op.is_empty() {
                    "not read by any node".into()
                } else {
                    format!("read by {op}, which has no weight operand there")
                },
            });
        }
    }
}
