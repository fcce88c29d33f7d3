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
        let stream = &self.stream;
        let (a, _a_sync) = lhs.0.device_ptr(stream);
        let (b, _b_sync) = rhs.0.device_ptr(stream);
        let (c, _c_sync) = out.0.device_ptr(stream);
        self.gemm(&Gemm {
            dtype: lhs_ty.dtype,
            m,
            n,
            k,
            batch,
            a: (a, m * k),
            b: (b, k * n),
            c: (c, m * n),
        })
        .map_err(|e| cuda_error(format!("matmul {lhs_ty} · {rhs_ty}: {e}")))
    }

    /// `batch` row-major products `C[m, n] = A[m, k] · B[k, n]` with f32 accumulation.
    pub fn gemm(&self, g: &Gemm) -> std::result::Result<(), String> {
        let data_type = match g.dtype {
            DType::F32 => cudaDataType::CUDA_R_32F,
            DType::F16 => cudaDataType::CUDA_R_16F,
            DType::BF16 => cudaDataType::CUDA_R_16BF,
            other => return Err(format!("GEMM of {other} is not supported on CUDA yet")),
        };
        let int = |v: usize| {
            i32::try_from(v).map_err(|_| format!("GEMM extent {v} exceeds cuBLAS's i32"))
        };
        let (m, n, k, batch) = (int(g.m)?, int(g.n)?, int(g.k)?, int(g.batch)?);
        let handle = self.handle().map_err(|e| e.to_string())?;
        let (alpha, beta) = (1.0f32, 0.0f32);
        // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: cuBLAS computes an n×m result from
        // B (n×k, leading dimension n) and A (k×m, leading dimension k).
        // SAFETY: the pointers hold the extents and strides `g` describes (the callers
        // derive them from inferred types); alpha and beta are f32 as the f32 compute type
        // requires.
        unsafe {
            cudarc::cublas::result::gemm_strided_batched_ex(
                *handle.handle(),
                cublasOperation_t::CUBLAS_OP_N,
                cublasOperation_t::CUBLAS_OP_N,
                n,
                m,
                k,
                (&alpha as *const f32).cast(),
                g.b.0 as *const _,
                data_type,
                n,
                g.b.1 as i64,
                g.a.0 as *const _,
                data_type,
                k,
                g.a.1 as i64,
                (&beta as *const f32).cast(),
                g.c.0 as *mut _,
                data_type,
                n,
                g.c.1 as i64,
                batch,
                cublasComputeType_t::CUBLAS_COMPUTE_32F,
                cublasGemmAlgo_t::CUBLAS_GEMM_DEFAULT,
            )
        }
        .map_err(|e| format!("cuBLAS: {e:?}"))
    }
}

/// One strided-batched GEMM: extents, and each operand as (device address, element stride
/// between batch entries; 0 repeats it).
pub struct Gemm {
    /// Element type of A, B and C.
    pub dtype: DType,
    /// Rows of A and C.
    pub m: usize,
    /// Columns of B and C.
    pub n: usize,
    /// Columns of A, rows of B.
    pub k: usize,
    /// Products.
    pub batch: usize,
    /// A `[m, k]`.
    pub a: (u64, usize),
    /// B `[k, n]`.
    pub b: (u64, usize),
    /// C `[m, n]`.
    pub c: (u64, usize),
}
