//! Reads of kernel operands as a program's [`InputAccess`]es describe them: offset
//! expressions, and the 8-wide vector reads that contiguous accesses allow.

use hyv_passes::fused::InputAccess;

/// Elements per work item on the vector path.
pub const VECTOR: usize = 8;

/// How the vector path reads one access for the 8 elements from a multiple of 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorRead {
    /// One aligned vector load (the innermost dimension is contiguous, a multiple of 8
    /// long, and every other stride a multiple of 8).
    Vector,
    /// One scalar load shared by the 8 lanes (a scalar operand, or a broadcast along an
    /// innermost dimension that is a multiple of 8 long).
    Splat,
    /// Eight scalar loads (any other stride pattern).
    Gather,
}

/// The vector-path read of `access`.
pub fn vector_read(access: &InputAccess) -> VectorRead {
    let Some((&inner, outer_dims)) = access.dims.split_last() else {
        return VectorRead::Splat;
    };
    let inner_stride = access.strides[outer_dims.len()];
    let outer_strides = &access.strides[..outer_dims.len()];
    match inner_stride {
        _ if !inner.is_multiple_of(VECTOR) => VectorRead::Gather,
        0 => VectorRead::Splat,
        1 if outer_strides.iter().all(|s| s.is_multiple_of(VECTOR)) => VectorRead::Vector,
        _ => VectorRead::Gather,
    }
}

/// The C expression of the element offset that `access` reads for iteration element `e`
/// (an expression of the kernel's index type): `Σ ((e / inner extent) % dim) · stride`.
pub fn offset(access: &InputAccess, e: &str) -> String {
    let mut terms = Vec::new();
    let mut inner: usize = 1;
    for (d, (&dim, &stride)) in access.dims.iter().zip(&access.strides).enumerate().rev() {
        if stride != 0 {
            let q = if inner == 1 {
                e.to_string()
            } else {
                format!("({e} / {inner}u)")
            };
            let i = if d == 0 { q } else { format!("({q} % {dim}u)") };
            terms.push(if stride == 1 {
                i
            } else {
                format!("{i} * {stride}u")
            });
        }
        inner *= dim;
    }
    if terms.is_empty() {
        return "0u".into();
    }
    terms.reverse();
    terms.join(" + ")
}

/// The largest offset `access` reads, plus one (to size the index type).
pub fn extent(access: &InputAccess) -> usize {
    1 + access
        .dims
        .iter()
        .zip(&access.strides)
        .map(|(&d, &s)| (d.saturating_sub(1)) * s)
        .sum::<usize>()
}
