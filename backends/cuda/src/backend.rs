//! [`CudaBackend`]: the `Backend` implementation on one CUDA device.
//!
//! Not yet verified on a GPU: written against cudarc's API and built without CUDA; only
//! the construction errors and kernel compilation are tested on machines without one.

use crate::codegen::{
    attention_kernel, eager_kernel, gather_kernel, im2col_kernel, AttentionSpec, KernelSource,
};
use crate::composite::composite_plan;
use crate::device::CudaBuffer;
use crate::error::{cuda_error, driver_present, no_driver, no_nvrtc, nvrtc_present, NAME};
use crate::executable::{CudaExecutable, Plan};
use crate::kernels::{Arg, KernelCache};
use crate::matmul::Blas;
use crate::nvrtc::NvrtcOptions;
use crate::ptx_cache::PtxCache;
use cudarc::driver::{CudaContext, CudaStream};
use hyv_ir::random::normal_sample;
use hyv_ir::{DType, Graph, HostTensor, Op, TensorData, TensorType};
use hyv_runtime::{Backend, CompileOptions, DeviceTensor, Error, Executable, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The CUDA backend on one device: generated NVRTC kernels for elementwise ops (integer
/// arithmetic included), reductions, data movement (broadcast, permute, slice, concat, pad),
/// iota and fusion groups (one kernel per group in graph mode), a SIMT flash-attention
/// kernel, cuBLAS matmuls and convolutions (im2col + GEMM), free reshapes and uploaded
/// constants, random normals generated on the host (the shared Philox stream, bit-identical
/// to every backend) and uploaded, and gathers; eager composites run as their fused
/// decompositions. An op without a kernel gives an error naming it.
#[derive(Clone)]
pub struct CudaBackend {
    inner: Arc<Inner>,
}

struct Inner {
    device: usize,
    stream: Arc<CudaStream>,
    kernels: KernelCache,
    blas: Blas,
    /// Eager kernels by op signature (`None`: the op has no generated kernel).
    eager: Mutex<HashMap<String, Option<Arc<KernelSource>>>>,
    /// Plans of eager composites by op signature.
    composites: Mutex<HashMap<String, Arc<Plan>>>,
}

impl CudaBackend {
    /// The backend on CUDA device `device` (0 is the first), with NVRTC options and the
    /// PTX cache from the environment (`HYV_CUDA_ARCH`, `HYV_CACHE_DIR`). Errors, never
    /// panics, when the driver or NVRTC cannot be loaded or the device cannot be opened.
    pub fn new(device: usize) -> Result<Self> {
        if !driver_present() {
            return Err(no_driver());
        }
        if !nvrtc_present() {
            return Err(no_nvrtc());
        }
        let ctx = CudaContext::new(device)
            .map_err(|e| cuda_error(format!("cannot open CUDA device {device}: {e}")))?;
        let stream = ctx.default_stream();
        let kernels = KernelCache::new(ctx, NvrtcOptions::default(), PtxCache::from_env());
        let blas = Blas::new(stream.clone());
        Ok(CudaBackend {
            inner: Arc::new(Inner {
                device,
                stream,
                kernels,
                blas,
                eager: Mutex::new(HashMap::new()),
                composites: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The device ordinal.
    pub fn device(&self) -> usize {
        self.inner.device
    }

    /// A new uninitialised device buffer for a tensor of type `ty`.
    pub(crate) fn alloc(&self, ty: &TensorType) -> Result<CudaBuffer> {
        let bytes = (ty.shape.numel() * ty.dtype.size_in_bytes()).max(1);
        // SAFETY: every kernel writes each element of its output before it is read.
        let slice = unsafe { self.inner.stream.alloc::<u8>(bytes) }
            .map_err(|e| cuda_error(format!("cannot allocate {bytes} bytes for {ty}: {e}")))?;
        Ok(CudaBuffer(Arc::new(slice)))
    }

    /// The backend's stream.
    pub(crate) fn stream(&self) -> &Arc<CudaStream> {
        &self.inner.stream
    }

    /// The plans of eager composites.
    pub(crate) fn composites(&self) -> &Mutex<HashMap<String, Arc<Plan>>> {
        &self.inner.composites
    }

    /// The backend's cuBLAS handle.
    pub(crate) fn blas(&self) -> &Blas {
        &self.inner.blas
    }

    /// Launches `kernel` on the backend's stream.
    pub(crate) fn launch(&self, kernel: &KernelSource, args: &[Arg]) -> Result<()> {
        self.inner.kernels.launch(&self.inner.stream, kernel, args)
    }

    /// The eager kernel of `op` for these types, generated once per signature.
    fn eager(
        &self,
        op: &Op,
        out: &TensorType,
        inputs: &[TensorType],
    ) -> Result<Option<Arc<KernelSource>>> {
        let key = format!("{op:?} {out} {inputs:?}");
        let mut cache = self
            .inner
            .eager
            .lock()
            .map_err(|_| cuda_error("the eager kernel cache lock is poisoned"))?;
        Ok(cache
            .entry(key)
            .or_insert_with(|| eager_kernel(op, out, inputs).map(Arc::new))
            .clone())
    }

    /// Runs the attention kernel: `q, k, v [, key_mask]` → `out`.
    fn attention(
        &self,
        op: &Op,
        out: &TensorType,
        inputs: &[&DeviceTensor],
    ) -> std::result::Result<DeviceTensor, String> {
        let Op::Attention {
            scale,
            causal,
            has_mask,
        } = op
        else {
            return Err("not an attention op".into());
        };
        let q = inputs.first().ok_or("attention needs q, k and v")?.ty();
        let k = inputs.get(1).ok_or("attention needs q, k and v")?.ty();
        let (&[b, h, sq, d], &[_, _, sk, _]) = (q.shape.dims(), k.shape.dims()) else {
            return Err(format!(
                "attention operands must be [B, H, S, D], got q {q} and k {k}"
            ));
        };
        if out.shape.dims().last() != Some(&d) {
            return Err(format!(
                "the attention kernel needs v's head dim = q's ({d}), got output {out}"
            ));
        }
        let spec = AttentionSpec {
            dtype: q.dtype,
            head_dim: d,
        };
        let kernel = attention_kernel(spec, b * h, sq).ok_or_else(|| {
            format!(
                "no attention kernel for {} with head dim {d} (1 to 160)",
                q.dtype
            )
        })?;
        let buffers = inputs
            .iter()
            .map(|t| buffer(t))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let result = self.alloc(out).map_err(|e| e.to_string())?;
        let mask = match (*has_mask, buffers.get(3)) {
            (true, Some(m)) => Arg::Buffer(m),
            (true, None) => return Err("attention has_mask but no mask operand".into()),
            (false, _) => Arg::Null,
        };
        let int = |v: usize| {
            i32::try_from(v)
                .map(Arg::Int)
                .map_err(|_| format!("attention size {v} exceeds i32"))
        };
        let args = [
            Arg::Buffer(buffers[0]),
            Arg::Buffer(buffers[1]),
            Arg::Buffer(buffers[2]),
            mask,
            Arg::Buffer(&result),
            int(h)?,
            int(sq)?,
            int(sk)?,
            Arg::Float(scale.0 as f32),
            Arg::Int(i32::from(*causal)),
        ];
        self.launch(&kernel, &args).map_err(|e| e.to_string())?;
        Ok(wrap(out.clone(), result))
    }
}

/// The composites the CUDA backend runs natively in graph mode: attention, on its own
/// kernel; every other composite is decomposed so that its pieces fuse.
pub fn claims_composite(op: &Op) -> bool {
    matches!(op, Op::Attention { .. })
}

/// Whether [`CudaBackend::execute`] has a kernel for `op` on operands of types `inputs`.
pub(crate) fn has_kernel(op: &Op, out: &TensorType, inputs: &[TensorType]) -> bool {
    match op {
        Op::Input { .. }
        | Op::Parameter { .. }
        | Op::Constant { .. }
        | Op::RandomNormal { .. }
        | Op::Reshape { .. } => true,
        Op::MatMul => matches!(
            inputs.first().map(|t| t.dtype),
            Some(DType::F32 | DType::F16 | DType::BF16)
        ),
        Op::Gather { .. } => match inputs {
            [x, i] => gather_kernel(op, out, x, i).is_some(),
            _ => false,
        },
        Op::Conv { .. } => {
            inputs.first().is_some_and(|x| x.dtype.is_float())
                && inputs
                    .get(1)
                    .is_some_and(|w| im2col_kernel(op, &inputs[0], w, out).is_some())
        }
        Op::Attention { .. } => inputs.first().is_some_and(|q| {
            let dims = q.shape.dims();
            dims.len() == 4
                && out.shape.dims().last() == dims.last()
                && attention_kernel(
                    AttentionSpec {
                        dtype: q.dtype,
                        head_dim: dims[3],
                    },
                    1,
                    1,
                )
                .is_some()
        }),
        op if op.is_composite() => composite_plan(op, out, inputs).is_ok(),
        op => eager_kernel(op, out, inputs).is_some(),
    }
}

impl CudaBackend {
    /// Runs a gather; an index out of range is an error (found after the kernel ran).
    fn gather(
        &self,
        op: &Op,
        out: &TensorType,
        inputs: &[&DeviceTensor],
    ) -> std::result::Result<DeviceTensor, String> {
        let [x, indices] = inputs else {
            return Err("needs two operands".into());
        };
        let kernel = gather_kernel(op, out, x.ty(), indices.ty())
            .ok_or_else(|| format!("no gather kernel for {} by {}", x.ty(), indices.ty()))?;
        let result = self.alloc(out).map_err(|e| e.to_string())?;
        let stream = &self.inner.stream;
        let bad = stream.alloc_zeros::<u8>(4).map_err(|e| e.to_string())?;
        let bad = CudaBuffer(Arc::new(bad));
        let args = [
            Arg::Buffer(buffer(x)?),
            Arg::Buffer(buffer(indices)?),
            Arg::Buffer(&result),
            Arg::Buffer(&bad),
        ];
        self.launch(&kernel, &args).map_err(|e| e.to_string())?;
        let flag = stream.clone_dtoh(&*bad.0).map_err(|e| e.to_string())?;
        if flag.iter().any(|&b| b != 0) {
            let Op::Gather { axis } = op else {
                unreachable!("checked by gather_kernel")
            };
            return Err(format!(
                "an index in {} is outside 0..{} (axis {axis} of {})",
                indices.ty(),
                x.ty().shape.dims()[*axis],
                x.ty()
            ));
        }
        Ok(wrap(out.clone(), result))
    }
}

/// Wraps a device buffer as a tensor of type `ty`.
pub(crate) fn wrap(ty: TensorType, buffer: CudaBuffer) -> DeviceTensor {
    DeviceTensor::new(ty, Arc::new(buffer))
}

/// The device buffer of a tensor, or a message when another backend made it.
pub(crate) fn buffer(t: &DeviceTensor) -> std::result::Result<&CudaBuffer, String> {
    t.buffer::<CudaBuffer>()
        .ok_or_else(|| format!("tensor {} was not created by the CUDA backend", t.ty()))
}

impl Backend for CudaBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn upload(&self, tensor: &HostTensor) -> Result<DeviceTensor> {
        let bytes = tensor.data().to_le_bytes();
        let slice = self
            .inner
            .stream
            .clone_htod(&bytes)
            .map_err(|e| cuda_error(format!("cannot upload {}: {e}", tensor.ty())))?;
        Ok(wrap(tensor.ty().clone(), CudaBuffer(Arc::new(slice))))
    }

    fn download(&self, tensor: &DeviceTensor) -> Result<HostTensor> {
        let ty = tensor.ty();
        let b = buffer(tensor).map_err(cuda_error)?;
        let mut bytes = self
            .inner
            .stream
            .clone_dtoh(&*b.0)
            .map_err(|e| cuda_error(format!("cannot download {ty}: {e}")))?;
        bytes.truncate(ty.shape.numel() * ty.dtype.size_in_bytes());
        let data = TensorData::from_le_bytes(ty.dtype, &bytes)
            .ok_or_else(|| cuda_error(format!("downloaded bytes do not make a {ty}")))?;
        HostTensor::new(ty.shape.clone(), data).map_err(Error::from)
    }

    fn execute(
        &self,
        op: &Op,
        out: &TensorType,
        inputs: &[&DeviceTensor],
        path: &str,
    ) -> Result<DeviceTensor> {
        let context = |m: String| cuda_error(format!("{} at `{path}`: {m}", op.name()));
        match op {
            Op::Attention { .. } => return self.attention(op, out, inputs).map_err(context),
            Op::Constant { value } => return self.upload(value),
            Op::RandomNormal {
                shape,
                dtype,
                seed,
                offset,
            } => {
                // The shared Philox stream on the host, so every backend has the same bits.
                let samples =
                    (0..shape.numel()).map(|i| normal_sample(*seed, offset.wrapping_add(i as u64)));
                let host = HostTensor::new(shape.clone(), TensorData::from_f64(*dtype, samples))?;
                return self.upload(&host);
            }
            op if op.is_composite() => {
                return self
                    .composite(op, out, inputs)
                    .map_err(|e| context(e.to_string()))
            }
            Op::Reshape { .. } => {
                let x = inputs.first().ok_or_else(|| context("no operand".into()))?;
                return Ok(wrap(out.clone(), buffer(x).map_err(context)?.clone()));
            }
            Op::Gather { .. } => return self.gather(op, out, inputs).map_err(context),
            Op::Conv { .. } => {
                let [x, w] = inputs else {
                    return Err(context("needs two operands".into()));
                };
                let result = self.alloc(out)?;
                let x = (buffer(x).map_err(context)?, x.ty());
                let w = (buffer(w).map_err(context)?, w.ty());
                self.conv(op, x, w, (&result, out)).map_err(context)?;
                return Ok(wrap(out.clone(), result));
            }
            Op::MatMul => {
                let [a, b] = inputs else {
                    return Err(context("needs two operands".into()));
                };
                let result = self.alloc(out)?;
                let lhs = (buffer(a).map_err(context)?, a.ty());
                let rhs = (buffer(b).map_err(context)?, b.ty());
                self.inner.blas.matmul(lhs, rhs, &result)?;
                return Ok(wrap(out.clone(), result));
            }
            _ => {}
        }
        let types: Vec<TensorType> = inputs.iter().map(|t| t.ty().clone()).collect();
        let Some(kernel) = self.eager(op, out, &types)? else {
            return Err(context("no CUDA kernel for this op yet".into()));
        };
        let buffers = inputs
            .iter()
            .map(|t| buffer(t))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(context)?;
        let result = self.alloc(out)?;
        let mut args: Vec<Arg> = buffers.into_iter().map(Arg::Buffer).collect();
        args.push(Arg::Buffer(&result));
        self.launch(&kernel, &args)?;
        Ok(wrap(out.clone(), result))
    }

    fn claims_composite(&self, op: &Op) -> bool {
        claims_composite(op)
    }

    /// Fusion groups run as one generated kernel each.
    fn fuses(&self) -> bool {
        true
    }

    fn compile(&self, graph: &Graph, _options: &CompileOptions) -> Result<Box<dyn Executable>> {
        Ok(Box::new(CudaExecutable::new(graph, self.clone())?))
    }
}
