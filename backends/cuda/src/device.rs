//! [`CudaBuffer`]: a tensor's bytes in device memory.

use cudarc::driver::CudaSlice;

/// A device tensor's storage: its row-major little-endian bytes (bools one byte each) in
/// one allocation (256-byte aligned, so the generated kernels' vector loads are aligned).
/// Allocations come from the stream-ordered memory pool of the CUDA driver
/// (`cuMemAllocAsync`, which caches freed blocks) where the device supports it.
#[derive(Debug)]
pub struct CudaBuffer(pub CudaSlice<u8>);
