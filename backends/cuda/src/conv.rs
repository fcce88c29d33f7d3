//! Convolution: [`im2col_kernel`](crate::codegen::im2col_kernel) writes the column matrix,
//! then one cuBLAS strided-batched GEMM per group multiplies each batch entry's columns by
//! the group's weights.
//!
//! Not yet run on a GPU (see the crate docs).

use crate::backend::CudaBackend;
use crate::codegen::im2col_kernel;
use crate::device::CudaBuffer;
use crate::kernels::Arg;
use crate::matmul::Gemm;
use cudarc::driver::DevicePtr;
use hyv_ir::{Op, TensorType};

impl CudaBackend {
    /// `out = conv(x, w)` for `op` (an `Op::Conv`), as an error message on failure.
    pub(crate) fn conv(
        &self,
        op: &Op,
        (x, x_ty): (&CudaBuffer, &TensorType),
        (w, w_ty): (&CudaBuffer, &TensorType),
        (out, out_ty): (&CudaBuffer, &TensorType),
    ) -> Result<(), String> {
        let Op::Conv { groups, .. } = op else {
            return Err("not a convolution".into());
        };
        let kernel = im2col_kernel(op, x_ty, w_ty, out_ty)
            .ok_or_else(|| format!("no convolution kernel for {x_ty} * {w_ty}"))?;
        let (xd, od) = (x_ty.shape.dims(), out_ty.shape.dims());
        let (n, c, o) = (xd[0], xd[1], od[1]);
        let kk: usize = w_ty.shape.dims()[2..].iter().product();
        let pp: usize = od[2..].iter().product();
        let cols_ty = TensorType::new(x_ty.dtype, [n * c * kk * pp]);
        let cols = self.alloc(&cols_ty).map_err(|e| e.to_string())?;
        self.launch(&kernel, &[Arg::Buffer(x), Arg::Buffer(&cols)])
            .map_err(|e| e.to_string())?;
        let size = x_ty.dtype.size_in_bytes() as u64;
        let (cg, og) = (c / groups, o / groups);
        let stream = self.stream();
        let (wp, _w_sync) = w.0.device_ptr(stream);
        let (bp, _b_sync) = cols.0.device_ptr(stream);
        let (cp, _c_sync) = out.0.device_ptr(stream);
        for g in 0..*groups {
            let at = |base: u64, elements: usize| base + elements as u64 * size;
            self.blas().gemm(&Gemm {
                dtype: x_ty.dtype,
                m: og,
                n: pp,
                k: cg * kk,
                batch: n,
                a: (at(wp, g * og * cg * kk), 0),
                b: (at(bp, g * cg * kk * pp), c * kk * pp),
                c: (at(cp, g * og * pp), o * pp),
            })?;
        }
        Ok(())
    }
}
