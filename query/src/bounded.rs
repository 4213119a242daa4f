//! Functions whose answer can be many times the size of their arguments (`repeat('x', 1e9)`,
//! `lpad('x', 2e9)`, `range(1, 2e8)`), wrapped so that each call first reserves what its answer
//! could take from the engine's memory pool, the one that bounds all running queries. A call
//! that would pass the limit, make one value over [`MAX_VALUE_BYTES`] or a batch over
//! [`MAX_CALL_BYTES`] fails with `memory_limit` before it allocates, instead of taking gigabytes
//! (and seconds no timeout can interrupt) outside DataFusion's accounting.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::compute::kernels::length::length;
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::FunctionRegistry;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryPool};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

/// How many bytes a call's answer can take at most in each row, from its arguments (empty
/// when they say nothing about it).
type Estimate = fn(&[ColumnarValue], usize) -> Vec<u64>;

/// The largest value one call may make: far beyond any figure, name or list in the lake.
pub const MAX_VALUE_BYTES: u64 = 16 << 20;

/// The most one call may make for a whole batch of rows.
pub const MAX_CALL_BYTES: u64 = 256 << 20;

/// The functions bounded, with how each one's answer grows.
const BOUNDED: [(&str, Estimate); 8] = [
    ("repeat", repeat),
    ("lpad", pad),
    ("rpad", pad),
    ("array_repeat", array_repeat),
    ("array_resize", array_resize),
    ("range", range),
    ("generate_series", range),
    ("replace", replace),
];

/// Replaces the growing functions registered in `ctx` with bounded ones reserving from its
/// memory pool.
pub fn register(ctx: &SessionContext) {
    let pool = &ctx.runtime_env().memory_pool;
    for (name, estimate) in BOUNDED {
        if let Ok(inner) = ctx.udf(name) {
            // Volatile, so that the optimizer does not compute a call over constants once while
            // planning (out of sight of the estimate) and copy the answer into every row.
            let mut signature = inner.signature().clone();
            signature.volatility = Volatility::Volatile;
            ctx.register_udf(ScalarUDF::new_from_impl(Bounded {
                inner: inner.as_ref().clone(),
                signature,
                estimate,
                pool: pool.clone(),
            }));
        }
    }
}

/// Whether `function` is one of the bounded functions. They are declared volatile only to keep
/// them out of constant folding: the same arguments give the same answer, so a statement that
/// calls them may still reuse its plan and answer.
pub fn is_bounded(function: &ScalarUDF) -> bool {
    function.inner().is::<Bounded>()
}

/// One function and its estimate.
struct Bounded {
    inner: ScalarUDF,
    signature: Signature,
    estimate: Estimate,
    pool: Arc<dyn MemoryPool>,
}

impl std::fmt::Debug for Bounded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bounded")
            .field("inner", &self.inner.name())
            .finish_non_exhaustive()
    }
}

impl PartialEq for Bounded {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl Eq for Bounded {}

impl Hash for Bounded {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.hash(state);
    }
}

impl ScalarUDFImpl for Bounded {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        self.inner.inner().schema_name(args)
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn is_strict(&self) -> bool {
        self.inner.inner().is_strict()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let sizes = (self.estimate)(&args.args, args.number_rows);
        let largest = sizes.iter().copied().max().unwrap_or(0);
        let bytes = sizes.iter().copied().fold(0u64, u64::saturating_add);
        let too_much = |what: String| {
            Err(DataFusionError::ResourcesExhausted(format!(
                "{}() would make {what}",
                self.name()
            )))
        };
        if largest > MAX_VALUE_BYTES {
            return too_much(format!(
                "a value of {} MiB, and one value may hold at most {} MiB",
                largest >> 20,
                MAX_VALUE_BYTES >> 20
            ));
        }
        if bytes > MAX_CALL_BYTES {
            return too_much(format!(
                "{} MiB for {} rows, and one call may make at most {} MiB",
                bytes >> 20,
                args.number_rows,
                MAX_CALL_BYTES >> 20
            ));
        }
        let reservation =
            MemoryConsumer::new(format!("answer of {}()", self.name())).register(&self.pool);
        if let Err(e) = reservation.try_grow(usize::try_from(bytes).unwrap_or(usize::MAX)) {
            return too_much(format!("{} MiB: {e}", bytes >> 20));
        }
        self.inner.invoke_with_args(args)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }

    fn short_circuits(&self) -> bool {
        self.inner.short_circuits()
    }

    fn output_ordering(&self, inputs: &[ExprProperties]) -> Result<SortProperties> {
        self.inner.output_ordering(inputs)
    }

    fn preserves_lex_ordering(&self, inputs: &[ExprProperties]) -> Result<bool> {
        self.inner.preserves_lex_ordering(inputs)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }
}

/// `f` of an argument's value in every row, as 64-bit integers (nulls as 0), or `None` when
/// they are not numbers. A constant is computed once.
fn per_row(
    arg: &ColumnarValue,
    rows: usize,
    f: impl Fn(&ArrayRef) -> Option<ArrayRef>,
) -> Option<Vec<i64>> {
    let (array, constant) = match arg {
        ColumnarValue::Array(a) => (a.clone(), false),
        ColumnarValue::Scalar(s) => (s.to_array_of_size(1).ok()?, true),
    };
    let ints = cast(&f(&array)?, &DataType::Int64).ok()?;
    let ints = ints.as_any().downcast_ref::<Int64Array>()?;
    let values: Vec<i64> = ints.iter().map(|v| v.unwrap_or(0)).collect();
    Some(match (constant, values.first()) {
        (true, Some(v)) => vec![*v; rows.max(1)],
        _ => values,
    })
}

/// An argument's values in every row, negatives as 0.
fn numbers(args: &[ColumnarValue], i: usize, rows: usize) -> Option<Vec<u64>> {
    let values = per_row(args.get(i)?, rows, |a| Some(a.clone()))?;
    Some(
        values
            .into_iter()
            .map(|v| v.max(0).unsigned_abs())
            .collect(),
    )
}

/// An argument's byte length in every row, or `None` when it is not text.
fn lengths(args: &[ColumnarValue], i: usize, rows: usize) -> Option<Vec<u64>> {
    let values = per_row(args.get(i)?, rows, |a| length(a).ok())?;
    Some(values.into_iter().map(i64::unsigned_abs).collect())
}

/// `repeat(text, n)`: the text's length times n.
fn repeat(args: &[ColumnarValue], rows: usize) -> Vec<u64> {
    match (lengths(args, 0, rows), numbers(args, 1, rows)) {
        (Some(text), Some(n)) => text
            .iter()
            .zip(&n)
            .map(|(t, n)| t.saturating_mul(*n))
            .collect(),
        _ => Vec::new(),
    }
}

/// `lpad(text, n [, fill])`, `rpad`: n characters of up to four bytes each.
fn pad(args: &[ColumnarValue], rows: usize) -> Vec<u64> {
    numbers(args, 1, rows).map_or_else(Vec::new, |n| {
        n.into_iter().map(|n| n.saturating_mul(4)).collect()
    })
}

/// `array_repeat(value, n)`: n copies of the value (its length when it is text, else 16 bytes).
fn array_repeat(args: &[ColumnarValue], rows: usize) -> Vec<u64> {
    let Some(n) = numbers(args, 1, rows) else {
        return Vec::new();
    };
    let size = lengths(args, 0, rows).unwrap_or_else(|| vec![16; n.len()]);
    size.iter()
        .zip(&n)
        .map(|(s, n)| (*s).max(16).saturating_mul(*n))
        .collect()
}

/// `array_resize(array, n [, value])`: n elements of 16 bytes.
fn array_resize(args: &[ColumnarValue], rows: usize) -> Vec<u64> {
    numbers(args, 1, rows).map_or_else(Vec::new, |n| {
        n.into_iter().map(|n| n.saturating_mul(16)).collect()
    })
}

/// `range(stop)`, `range(start, stop [, step])` over integers: 8 bytes per element. Ranges of
/// dates and times are left to the other limits.
fn range(args: &[ColumnarValue], rows: usize) -> Vec<u64> {
    let ints = |i: usize| {
        let arg = args.get(i)?;
        matches!(arg.data_type(), DataType::Int64 | DataType::Int32)
            .then(|| per_row(arg, rows, |a| Some(a.clone())))?
    };
    let (start, stop, step) = match args.len() {
        1 => (None, ints(0), None),
        _ => (ints(0), ints(1), ints(2)),
    };
    let Some(stop) = stop else {
        return Vec::new();
    };
    (0..stop.len())
        .map(|i| {
            let start = start.as_ref().map_or(0, |s| s[i]);
            let step = step.as_ref().map_or(1, |s| s[i]).unsigned_abs().max(1);
            let count = (i128::from(stop[i]) - i128::from(start)).unsigned_abs() / u128::from(step);
            u64::try_from(count.saturating_mul(8)).unwrap_or(u64::MAX)
        })
        .collect()
}

/// `replace(text, from, to)`: when `to` is longer, every `from` in the text may become a `to`.
fn replace(args: &[ColumnarValue], rows: usize) -> Vec<u64> {
    let (Some(text), Some(from), Some(to)) = (
        lengths(args, 0, rows),
        lengths(args, 1, rows),
        lengths(args, 2, rows),
    ) else {
        return Vec::new();
    };
    (0..text.len())
        .map(|i| {
            let (t, f, o) = (text[i], from[i], to[i]);
            // An empty `from` replaces nothing.
            let growth = if o > f && f > 0 { t / f * (o - f) } else { 0 };
            t.saturating_add(growth)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;
    use datafusion::common::ScalarValue;

    fn text(values: &[&str]) -> ColumnarValue {
        ColumnarValue::Array(Arc::new(StringArray::from(values.to_vec())))
    }

    fn int(v: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(v)))
    }

    #[test]
    fn estimates_follow_each_row_and_constants_count_for_every_row() {
        assert_eq!(repeat(&[text(&["ab", "", "xyz"]), int(4)], 3), [8, 0, 12]);
        assert_eq!(repeat(&[text(&["ab"]), int(-5)], 1), [0]);
        assert_eq!(pad(&[text(&["a", "b"]), int(10)], 2), [40, 40]);
        assert_eq!(range(&[int(1), int(1_000_001)], 1), [8_000_000]);
        assert_eq!(range(&[int(0), int(100), int(10)], 1), [80]);
        // Growth only when `to` is longer than `from`: 4 matches of "x" become 3 bytes longer.
        let grows = [text(&["xxxx"]), text(&["x"]), text(&["yyyy"])];
        assert_eq!(replace(&grows, 1), [4 + 4 * 3]);
        let shrinks = [text(&["xxxx"]), text(&["xx"]), text(&["y"])];
        assert_eq!(replace(&shrinks, 1), [4]);
        // Not text: no estimate, the other limits apply.
        assert!(repeat(&[int(3), int(4)], 1).is_empty());
    }
}
