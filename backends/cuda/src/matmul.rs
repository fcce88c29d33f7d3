//! [`Blas`]: batched matmul on cuBLAS (`cublasGemmStridedBatchedEx`, f32 accumulation for
//! f32, f16 and bf16).
//!
//! Not yet run on a GPU (see the crate docs). cuBLASLt with fused epilogues is future work.

use crate::device::CudaBuffer;
use crate::error::cuda_error;
use cudarc::cublas::sys::{cublasComputeType_t, cublasGemmAlgo_t, cublasOperation_t, cudaDataType};
use cudarc::cublas::CudaBlas;
use cudarc::driver::{CudaStream, DevicePtr};
use hyv_ir::{DType, TensorType};
use hyv_runtime::Result;
use std::sync::{Arc, Mutex};

/// A cuBLAS handle on the backend's stream, created on first use.
pub struct Blas {
    stream: Arc<CudaStream>,
    handle: Mutex<Option<Arc<CudaBlas>>>,
}

impl Blas {
    /// No handle yet; `stream` is where the matmuls run.
    pub fn new(stream: Arc<CudaStream>) -> Self {
        Blas {
            stream,
            handle: Mutex::new(None),
        }
    }

    fn handle(&self) -> Result<Arc<CudaBlas>> {
        let mut handle = self
            .handle
            .lock()
            .map_err(|_| cuda_error("the cuBLAS handle lock is poisoned"))?;
        if let Some(h) = handle.as_ref() {
            return Ok(h.clone());
        }
        // SAFETY: only tries to dlopen the library's candidate names.
        if !unsafe { cudarc::cublas::sys::is_culib_present() } {
            return Err(cuda_error(
                "cuBLAS not found (libcublas.so.13 not loadable): install the CUDA 13 toolkit \
                 or `pip install nvidia-cublas` and add its lib folder to LD_LIBRARY_PATH",
            ));
        }
        let h = Arc::new(
            CudaBlas::new(self.stream.clone())
                .map_err(|e| cuda_error(format!("cannot create a cuBLAS handle: {e:?}")))?,
        );
        *handle = Some(h.clone());
        Ok(h)
    }

    /// `out [B..., m, n] = lhs [B..., m, k] · rhs [B..., k, n] | [k, n]`, row-major. A
    /// rank-2 `rhs` folds the batch into `m` (one GEMM); a batched one is a strided batch.
    pub fn matmul(
        &self,
        (lhs, lhs_ty): (&CudaBuffer, &TensorType),
        (rhs, rhs_ty): (&CudaBuffer, &TensorType),
        out: &CudaBuffer,
    ) -> Result<()> {
        let (ad, bd) = (lhs_ty.shape.dims(), rhs_ty.shape.dims());
        let (&[m, k], &[_, n]) = (&ad[ad.len() - 2..], &bd[bd.len() - 2..]) else {
            return Err(cuda_error(format!(
                "matmul operands {lhs_ty} and {rhs_ty} need rank ≥ 2"
            )));
        };
        let batch: usize = ad[..ad.len() - 2].iter().product();
        let (m, batch) = if bd.len() == 2 {
            (m * batch, 1)
        } else {
            (m, batch)
        };
        let data_type = match lhs_ty.dtype {
            DType::F32 => cudaDataType::CUDA_R_32F,
            DType::F16 => cudaDataType::CUDA_R_16F,
            DType::BF16 => cudaDataType::CUDA_R_16BF,
            other => {
                return Err(cuda_error(format!(
                    "matmul of {other} is not supported on CUDA yet"
                )))
            }
        };
        let int = |v: usize| {
            i32::try_from(v)
                .map_err(|_| cuda_error(format!("matmul extent {v} exceeds cuBLAS's i32")))
        };
        let (mi, ni, ki, bi) = (int(m)?, int(n)?, int(k)?, int(batch)?);
        let handle = self.handle()?;
        let (alpha, beta) = (1.0f32, 0.0f32);
        let stream = &self.stream;
        let (a, _a_sync) = lhs.0.device_ptr(stream);
        let (b, _b_sync) = rhs.0.device_ptr(stream);
        let (c, _c_sync) = out.0.device_ptr(stream);
        // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: cuBLAS computes an n×m result from
        // B (n×k, leading dimension n) and A (k×m, leading dimension k).
        // SAFETY: the buffers hold the extents the types describe (checked by the callers'
        // type inference); alpha and beta are f32 as the f32 compute type requires.
        unsafe {
            cudarc::cublas::result::gemm_strided_batched_ex(
                *handle.handle(),
                cublasOperation_t::CUBLAS_OP_N,
                cublasOperation_t::CUBLAS_OP_N,
                ni,
                mi,
                ki,
                (&alpha as *const f32).cast(),
                b as *const _,
                data_type,
                ni,
                (k * n) as i64,
                a as *const _,
                data_type,
                ki,
                (m * k) as i64,
                (&beta as *const f32).cast(),
                c as *mut _,
                data_type,
                ni,
                (m * n) as i64,
                bi,
                cublasComputeType_t::CUBLAS_COMPUTE_32F,
                cublasGemmAlgo_t::CUBLAS_GEMM_DEFAULT,
            )
        }
        .map_err(|e| cuda_error(format!("cuBLAS matmul {lhs_ty} · {rhs_ty}: {e:?}")))
    }
}
