//! WeightWatcher's layer source (methods.md §2.6, quirk Q13): every initializer of rank 2 or 4,
//! in file order, whatever reads it — layer ids count all initializers, skipped ones included.

use std::collections::HashMap;
use std::sync::Arc;

use tract_onnx::pb::{GraphProto, NodeProto};

use super::fold::{Expr, Leaf, LeafSrc};
use super::view::{self, Layout};
use super::{Consumer, Extraction, LayerKind, Origin, Recipe, Skipped, WeightLayer};
use crate::onnx::{dtype, node_label, tensor};
use crate::options::GroupedConv;
use crate::schema::SkipReason;

pub(super) fn scan_initializers(x: &mut Extraction<'_>) {
    let model = x.model;
    let g = model.graph();
    let readers = readers_of(g);
    for (i, t) in g.initializer.iter().enumerate() {
        let consumer = readers.get(t.name.as_str()).and_then(|v| v.first());
        let op = consumer
            .map(|(n, _, _)| n.op_type.clone())
            .unwrap_or_default();
        let skip = |x: &mut Extraction<'_>, reason: SkipReason, detail: String| {
            x.skipped.push(Skipped {
                layer_id: Some(i),
                name: t.name.clone(),
                op: op.clone(),
                reason,
                detail,
            })
        };
        let Ok((shape, _)) = tensor::shape_of(&t.dims, model.limits()) else {
            skip(x, SkipReason::Malformed, "bad dims".into());
            continue;
        };
        let kind = match shape.len() {
            2 => LayerKind::Dense,
            4 => LayerKind::Conv2d,
            r => {
                skip(
                    x,
                    SkipReason::Rank,
                    format!("rank {r}: the initializer scan takes only 2-D and 4-D"),
                );
                continue;
            }
        };
        if !dtype::is_float(t.data_type) {
            skip(x, SkipReason::UnsupportedDtype, dtype::name(t.data_type));
            continue;
        }
        let layout = if kind == LayerKind::Dense {
            Layout::Stacked { rows: None }
        } else {
            Layout::Conv { group: 1 }
        };
        let Ok(view) = view::view_for(&layout, &shape, GroupedConv::Stacked) else {
            skip(x, SkipReason::Malformed, "no matrix view".into());
            continue;
        };
        let consumers: Vec<Consumer> = readers
            .get(t.name.as_str())
            .map(|v| {
                v.iter()
                    .map(|(n, k, slot)| Consumer {
                        node: node_label(n, *k),
                        op: n.op_type.clone(),
                        path: String::new(),
                        slot: *slot,
                    })
                    .collect()
            })
            .unwrap_or_default();
        x.layers.push(WeightLayer {
            layer_id: i,
            name: t.name.clone(),
            kind,
            op,
            consumers,
            path: String::new(),
            stored_shape: shape,
            dtype: dtype::name(t.data_type),
            origin: Origin::Initializer,
            source: format!("init:{}", t.name),
            flags: vec![],
            tied: vec![],
            view,
            bn: None,
        });
        x.recipes.push(Recipe {
            expr: Arc::new(Expr::Leaf(Leaf {
                name: &t.name,
                src: LeafSrc::Init(t),
                overridable: false,
                depth: 0,
            })),
            layout,
            bn: None,
        });
    }
}

/// Value name → (node, node index, input slot) in one graph.
pub(super) fn readers_of(g: &GraphProto) -> HashMap<&str, Vec<(&NodeProto, usize, usize)>> {
    let mut m: HashMap<&str, Vec<_>> = HashMap::new();
    for (k, n) in g.node.iter().enumerate() {
        for (s, i) in n.input.iter().enumerate() {
            m.entry(i.as_str()).or_default().push((n, k, s));
        }
    }
    m
}
