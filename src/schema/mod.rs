//! The declared shape of tailwatch's outputs: every per-layer column (`columns`), every row,
//! skip and model status (`status`), and the model summary's metrics and counts (`summary`).
//!
//! Each thing is declared once, in a table, and everything else reads that table: the row
//! writers (CSV, JSON), the readers of saved analyses (which refuse a column or status they do
//! not know), the summaries, the gate's metric lookup and the reports. Adding a column is one
//! line in `columns!`; the compiler then points at every `match` that must learn about it.

pub mod columns;
pub mod status;
pub mod summary;

pub use columns::{CellType, Column, Stage};
pub use status::{ModelStatus, RowStatus, SkipReason};
pub use summary::{Counts, SUMMARY_MEANS, SummaryMean};

/// Version of the JSON layouts (`analysis.json`, `report.json`, the study's saved analyses);
/// bumped on any incompatible change. A saved analysis of another version is refused.
///
/// - 1: first layout.
/// - 2: one spelling, `analyze`: the timing `analyse_s` is `analyze_s` and a study model's
///   status `analysed` is `analyzed`; unknown columns and statuses are refused on reading.
/// - 3: `details` appends `dtype` and `origin` (the stored form of each weight, e.g.
///   `int4 (dequantized, block 32, asym)`).
pub const SCHEMA_VERSION: u32 = 3;

/// Declares a closed set of names that are written to outputs as fixed strings: the enum, its
/// string form (`as_str`, `Display`, serde), parsing (`parse`, an error listing the accepted
/// names) and the list of all values (`ALL`), from one table.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )* ];

            /// The output text of every value, in declaration order.
            pub const NAMES: &'static [&'static str] = &[ $( $text, )* ];

            /// The text written to outputs.
            pub const fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text, )* }
            }

            /// The value written as `text`, if any.
            pub fn parse(text: &str) -> Option<$name> {
                match text { $( $text => Some($name::$variant), )* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| {
                    let names: Vec<String> =
                        $name::ALL.iter().map(|v| format!("{:?}", v.as_str())).collect();
                    serde::de::Error::custom(format!(
                        "unknown {} {text:?}; expected one of {}",
                        stringify!($name),
                        names.join(", ")
                    ))
                })
            }
        }

        impl From<$name> for crate::metrics::row::Value {
            fn from(v: $name) -> Self {
                crate::metrics::row::Value::Text(v.as_str().to_string())
            }
        }
    };
}
pub(crate) use text_enum;

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
