//! The closed sets of strings that outputs carry: a row's status, why a weight layer produced
//! no row, and a study model's status. Each is declared once, here, with its output text.

use super::text_enum;

text_enum! {
    /// The `status` column: how far a row got (docs/methods.md §9). `success` and `failed`
    /// are WeightWatcher's (the power-law fit's outcome); the rest are rows whose weights could
    /// not be analyzed, with the reason in the `problem` column (docs/onnx-weights.md §8.2).
    pub enum RowStatus {
        /// The row was analyzed and its power-law fit succeeded.
        Success = "success",
        /// The power-law fit failed; the other metrics are there.
        Failed = "failed",
        /// The eigensolver did not converge or gave non-finite values.
        EigensolverFailed = "eigensolver_failed",
        /// The weight holds NaN or infinite values.
        InvalidValues = "invalid_values",
        /// The weight's dtype is one tailwatch does not decode.
        UnsupportedDtype = "unsupported_dtype",
        /// Decoding the weight would exceed the per-layer memory budget.
        OverBudget = "over_budget",
        /// Every value is zero: there is no spectrum.
        Degenerate = "degenerate",
        /// The stored tensor cannot be decoded as declared.
        Malformed = "malformed",
    }
}

impl RowStatus {
    /// Whether the row has an ESD and metrics (the fit may still have failed).
    pub const fn is_analyzed(self) -> bool {
        matches!(self, RowStatus::Success | RowStatus::Failed)
    }
}

text_enum! {
    /// Why a weight layer found in the graph produced no row (the `skipped` list).
    pub enum SkipReason {
        /// Outside `min_evals` / `max_evals` / `max_N` (docs/methods.md §3).
        SizeFilter = "size filter",
        /// The weight is computed at run time (not a constant expression of initializers).
        RuntimeOperand = "runtime operand",
        /// Both operands of a MatMul are constant: no weight slot to take.
        ConstantExpression = "constant expression",
        /// An op whose weight encoding tailwatch does not decode.
        UnsupportedOp = "unsupported op",
        /// A dtype tailwatch does not decode.
        UnsupportedDtype = "unsupported dtype",
        /// The tensor's rank is not one a weight of its op can have.
        UnsupportedRank = "unsupported rank",
        /// The initializer scan (`layer_source: initializers`) takes only 2-D and 4-D tensors.
        Rank = "rank",
        /// The tensor has no matrix view (a vector, a scalar).
        NotAMatrix = "not a matrix",
        /// The shape does not fit the op's weight layout (groups that do not divide the rows...).
        UnsupportedShape = "unsupported shape",
        /// Folding the weight would exceed the memory budget.
        OverBudget = "over budget",
        /// The tensor or its fold chain cannot be decoded as declared.
        Malformed = "malformed",
        /// A constant that no weight slot of a supported op reads.
        NotAWeightSlot = "not a weight slot",
    }
}

text_enum! {
    /// A study model's outcome.
    pub enum ModelStatus {
        /// Analyzed in this run.
        Analyzed = "analyzed",
        /// Read back from the output directory's saved analysis (same file hash and options).
        Reused = "reused",
        /// Could not be analyzed; the study is incomplete.
        Failed = "failed",
    }
}
