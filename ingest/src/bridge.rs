//! The one place where data crosses from polars' Arrow implementation to arrow-rs: through the
//! Arrow C Data Interface, sharing the buffers rather than copying them.

use arrow::array::{ArrayRef, make_array};
use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi};

/// Moves a polars-arrow array into arrow-rs without copying its buffers.
pub fn to_arrow_rs(
    field: &polars_arrow::datatypes::Field,
    array: Box<dyn polars_arrow::array::Array>,
) -> Result<ArrayRef, String> {
    let schema = polars_arrow::ffi::export_field_to_c(field);
    let array = polars_arrow::ffi::export_array_to_c(array);
    // SAFETY: both crates define these structs as the C Data Interface's `ArrowSchema` and
    // `ArrowArray` with `#[repr(C)]` and identical layout. Ownership moves: the polars values are
    // forgotten and arrow-rs calls their release callbacks when the imported array is dropped.
    #[allow(unsafe_code)]
    let data = unsafe {
        let schema: FFI_ArrowSchema = std::mem::transmute(schema);
        let array: FFI_ArrowArray = std::mem::transmute(array);
        from_ffi(array, &schema)
    };
    data.map(make_array).map_err(|e| e.to_string())
}
