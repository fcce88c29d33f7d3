//! Helpers shared by the integration tests.

use hyv_ir::HostTensor;

/// Relative L2 error of `a` against the reference `b` (types must match).
pub fn rel_l2(a: &HostTensor, b: &HostTensor) -> f64 {
    a.rel_l2_error(b).expect("compared tensors differ in type")
}
