//! Why a candidate weight is not a layer: every skip reason the extraction writes, in one place.
//! `Skipped.reason` stays a string (the reports and saved analyses carry it); these are its
//! values, spelled exactly as they always were.

/// A skip reason of the extraction (`Skipped.reason` is `as_str()` of one of these).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// The weight's dims, view or folded expression are malformed.
    Malformed,
    /// Initializer scan: not 2-D or 4-D.
    Rank,
    /// A dtype that is not decoded (or not a float, in the initializer scan).
    UnsupportedDtype,
    /// The weight slot is computed at run time.
    RuntimeOperand,
    /// Folding the expression would exceed the element or memory budget.
    OverBudget,
    /// A conv weight whose rank has no conv kind.
    UnsupportedRank,
    /// A dense weight of rank < 2.
    NotAMatrix,
    /// No matrix view for this shape (groups that do not divide the channels…).
    UnsupportedShape,
    /// A rank ≥ 2 float initializer that no weight slot reads.
    NotAWeightSlot,
    /// An op whose weight format is not decoded (MatMulNBits).
    UnsupportedOp,
    /// Both operands of a matrix product are constant.
    ConstantExpression,
}

impl SkipReason {
    pub const ALL: [SkipReason; 11] = [
        SkipReason::Malformed,
        SkipReason::Rank,
        SkipReason::UnsupportedDtype,
        SkipReason::RuntimeOperand,
        SkipReason::OverBudget,
        SkipReason::UnsupportedRank,
        SkipReason::NotAMatrix,
        SkipReason::UnsupportedShape,
        SkipReason::NotAWeightSlot,
        SkipReason::UnsupportedOp,
        SkipReason::ConstantExpression,
    ];

    /// The string written to `Skipped.reason` (and so to describe and the reports).
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Malformed => "malformed",
            SkipReason::Rank => "rank",
            SkipReason::UnsupportedDtype => "unsupported dtype",
            SkipReason::RuntimeOperand => "runtime operand",
            SkipReason::OverBudget => "over budget",
            SkipReason::UnsupportedRank => "unsupported rank",
            SkipReason::NotAMatrix => "not a matrix",
            SkipReason::UnsupportedShape => "unsupported shape",
            SkipReason::NotAWeightSlot => "not a weight slot",
            SkipReason::UnsupportedOp => "unsupported op",
            SkipReason::ConstantExpression => "constant expression",
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_keep_their_strings() {
        let strings: Vec<&str> = SkipReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            strings,
            [
                "malformed",
                "rank",
                "unsupported dtype",
                "runtime operand",
                "over budget",
                "unsupported rank",
                "not a matrix",
                "unsupported shape",
                "not a weight slot",
                "unsupported op",
                "constant expression",
            ]
        );
    }
}
