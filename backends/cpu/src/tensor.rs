//! The CPU backend's buffers, typed access to their storage, and the f32 conversions every
//! float kernel shares.

use half::slice::HalfFloatSliceExt;
use half::{bf16, f16};
use hyv_ir::{DType, TensorData, TensorType};
use rayon::prelude::*;
use std::borrow::Cow;
use std::sync::Arc;

/// Elements per parallel task: smaller jobs run on the calling thread.
pub const GRAIN: usize = 1 << 14;

/// The buffer behind a CPU [`hyv_runtime::DeviceTensor`]: row-major element storage, shared
/// so that reshapes and single-rank collectives cost nothing.
#[derive(Debug, Clone)]
pub struct CpuBuffer(pub Arc<TensorData>);

/// A kernel operand: its type and its storage.
#[derive(Debug, Clone, Copy)]
pub struct Arg<'a> {
    /// The operand's type.
    pub ty: &'a TensorType,
    /// The operand's elements.
    pub data: &'a Arc<TensorData>,
}

impl Arg<'_> {
    /// The operand's extents.
    pub fn dims(&self) -> &[usize] {
        self.ty.shape.dims()
    }
}

/// An element type of [`TensorData`], so movement kernels are written once for all dtypes.
pub trait Elem: Copy + Send + Sync + 'static {
    /// The elements, when `data` holds this type.
    fn slice(data: &TensorData) -> Option<&[Self]>;
    /// Wraps elements as storage.
    fn wrap(v: Vec<Self>) -> TensorData;
}

macro_rules! impl_elem {
    ($($t:ty => $var:ident),*) => {$(
        impl Elem for $t {
            fn slice(data: &TensorData) -> Option<&[Self]> {
                match data {
                    TensorData::$var(v) => Some(v),
                    _ => None,
                }
            }
            fn wrap(v: Vec<Self>) -> TensorData {
                TensorData::$var(v)
            }
        }
    )*};
}
impl_elem!(f32 => F32, f16 => F16, bf16 => BF16, i32 => I32, i64 => I64, bool => Bool);

/// Runs `$body` with the type alias `$t` bound to the element type of `$dtype`.
macro_rules! with_elem {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            hyv_ir::DType::F32 => {
                type $t = f32;
                $body
            }
            hyv_ir::DType::F16 => {
                type $t = half::f16;
                $body
            }
            hyv_ir::DType::BF16 => {
                type $t = half::bf16;
                $body
            }
            hyv_ir::DType::I32 => {
                type $t = i32;
                $body
            }
            hyv_ir::DType::I64 => {
                type $t = i64;
                $body
            }
            hyv_ir::DType::Bool => {
                type $t = bool;
                $body
            }
        }
    };
}
pub(crate) use with_elem;

/// The elements of `data` as `T`; an error naming `what` when the dtype differs.
pub fn typed<'a, T: Elem>(data: &'a TensorData, what: &str) -> Result<&'a [T], String> {
    T::slice(data).ok_or_else(|| format!("{what} has unexpected dtype {}", data.dtype()))
}

/// The elements of float storage as f32: borrowed for f32, widened (exactly) for f16/bf16.
pub fn load_f32<'a>(data: &'a TensorData, what: &str) -> Result<Cow<'a, [f32]>, String> {
    fn widen<T: Sync>(v: &[T], convert: impl Fn(&[T], &mut [f32]) + Sync) -> Vec<f32> {
        let mut out = vec![0.0; v.len()];
        out.par_chunks_mut(GRAIN)
            .zip(v.par_chunks(GRAIN))
            .for_each(|(o, s)| convert(s, o));
        out
    }
    match data {
        TensorData::F32(v) => Ok(Cow::Borrowed(v)),
        TensorData::F16(v) => Ok(Cow::Owned(widen(v, |s, o| s.convert_to_f32_slice(o)))),
        TensorData::BF16(v) => Ok(Cow::Owned(widen(v, |s, o| s.convert_to_f32_slice(o)))),
        other => Err(format!(
            "{what} must be a float type, got {}",
            other.dtype()
        )),
    }
}

/// Stores f32 results as float `dtype`, rounding to nearest even for f16/bf16.
pub fn store_f32(dtype: DType, v: Vec<f32>) -> Result<TensorData, String> {
    fn narrow<T: Send + Copy>(
        v: &[f32],
        zero: T,
        convert: impl Fn(&mut [T], &[f32]) + Sync,
    ) -> Vec<T> {
        let mut out = vec![zero; v.len()];
        out.par_chunks_mut(GRAIN)
            .zip(v.par_chunks(GRAIN))
            .for_each(|(o, s)| convert(o, s));
        out
    }
    let narrowed = match dtype {
        DType::F32 => return Ok(TensorData::F32(v)),
        DType::F16 => TensorData::F16(narrow(&v, f16::ZERO, |o, s| o.convert_from_f32_slice(s))),
        DType::BF16 => TensorData::BF16(narrow(&v, bf16::ZERO, |o, s| o.convert_from_f32_slice(s))),
        other => return Err(format!("result dtype {other} must be a float type")),
    };
    // The f32 result is spent: a later kernel of the same run may reuse it.
    crate::pool::release(v);
    Ok(narrowed)
}

/// Elementwise float kernel over `N` operands of float dtype `dtype`: `f` gets aligned
/// chunks of the operands as f32 and fills the matching output chunk, chunks in parallel.
/// f16/bf16 chunks are widened into scratch buffers and the result narrowed back, so every
/// element is read and written once (no whole-tensor f32 copies).
pub fn float_zip<const N: usize>(
    inputs: [&TensorData; N],
    dtype: DType,
    f: impl Fn([&[f32]; N], &mut [f32]) + Sync,
) -> Result<TensorData, String> {
    fn halves<T, const N: usize>(
        inputs: [&[T]; N],
        f: &(impl Fn([&[f32]; N], &mut [f32]) + Sync),
    ) -> Vec<T>
    where
        T: Copy + Default + Send + Sync,
        [T]: HalfFloatSliceExt,
    {
        let n = inputs.first().map_or(0, |v| v.len());
        let mut out = vec![T::default(); n];
        out.par_chunks_mut(GRAIN).enumerate().for_each(|(c, o)| {
            let start = c * GRAIN;
            let wide: Vec<Vec<f32>> = inputs
                .iter()
                .map(|v| v[start..start + o.len()].to_f32_vec())
                .collect();
            let mut res = vec![0.0f32; o.len()];
            f(std::array::from_fn(|i| wide[i].as_slice()), &mut res);
            o.convert_from_f32_slice(&res);
        });
        out
    }
    fn operands<T: Elem, const N: usize>(inputs: [&TensorData; N]) -> Result<[&[T]; N], String> {
        let mut out: [&[T]; N] = [&[]; N];
        for (o, d) in out.iter_mut().zip(inputs) {
            *o = typed(d, "operand")?;
        }
        Ok(out)
    }
    Ok(match dtype {
        DType::F32 => {
            let xs = operands::<f32, N>(inputs)?;
            let n = xs.first().map_or(0, |v| v.len());
            let mut out = vec![0.0f32; n];
            out.par_chunks_mut(GRAIN).enumerate().for_each(|(c, o)| {
                let start = c * GRAIN;
                f(std::array::from_fn(|i| &xs[i][start..start + o.len()]), o);
            });
            TensorData::F32(out)
        }
        DType::F16 => TensorData::F16(halves(operands::<f16, N>(inputs)?, &f)),
        DType::BF16 => TensorData::BF16(halves(operands::<bf16, N>(inputs)?, &f)),
        other => return Err(format!("operands must be a float type, got {other}")),
    })
}

/// Applies `f` to every element of `x` in parallel.
pub fn par_map<T: Sync, U: Send>(x: &[T], f: impl Fn(&T) -> U + Sync + Send) -> Vec<U> {
    x.par_iter().with_min_len(GRAIN).map(f).collect()
}

/// Applies `f` to every pair of elements of `a` and `b` (same length) in parallel.
pub fn par_zip<T: Sync, U: Sync, V: Send>(
    a: &[T],
    b: &[U],
    f: impl Fn(&T, &U) -> V + Sync + Send,
) -> Vec<V> {
    a.par_iter()
        .zip(b.par_iter())
        .with_min_len(GRAIN)
        .map(|(x, y)| f(x, y))
        .collect()
}
