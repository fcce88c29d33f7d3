//! [`CudaBuffer`]: a tensor's bytes in device memory.

use cudarc::driver::CudaSlice;
use std::sync::Arc;

/// A device tensor's storage: its row-major little-endian bytes (bools one byte each) in
/// one allocation (256-byte aligned, so the generated kernels' vector loads are aligned).
/// Allocations come from the stream-ordered memory pool of the CUDA driver
/// (`cuMemAllocAsync`, which caches freed blocks) where the device supports it. Shared, so
/// that a reshape is a new tensor on the same bytes (buffers are never written after the
/// kernel that makes them).
#[derive(Debug, Clone)]
pub struct CudaBuffer(pub Arc<CudaSlice<u8>>);
