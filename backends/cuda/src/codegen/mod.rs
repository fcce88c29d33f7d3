//! CUDA C generation: one `extern "C" __global__` kernel per fused program
//! ([`fused_kernel`]), per graph ([`graph_kernels`]) and per eager op ([`eager_kernel`]:
//! one-op fused programs, else [`integer_kernel`], [`movement_kernel`] or
//! [`reduce_kernel`]), plus the flash-attention kernel ([`attention_kernel`]) and the
//! column matrix of convolutions ([`im2col_kernel`], the GEMM runs on cuBLAS) and gathers
//! ([`gather_kernel`]).
//!
//! Every source starts with the same prelude (`prelude.cuh`: 16-bit conversions with
//! round-to-nearest-even, scalar and 8-wide vector loads and stores, NaN-propagating
//! max/min, block reductions) and needs no header, so NVRTC compiles it without a CUDA
//! toolkit. Shapes are static, so sizes and strides are constants in the source.

mod access;
mod attention;
mod expr;
mod fused;
mod gather;
mod im2col;
mod integer;
mod movement;
mod reduce;

pub use attention::{attention_kernel, AttentionSpec, ATTENTION_BLOCK_Q};
pub use fused::{eager_kernel, fused_kernel, graph_kernels};
pub use gather::gather_kernel;
pub use im2col::im2col_kernel;
pub use integer::integer_kernel;
pub use movement::movement_kernel;
pub use reduce::reduce_kernel;

use hyv_ir::DType;

/// The helpers every generated source starts with.
pub const PRELUDE: &str = include_str!("prelude.cuh");

/// How a kernel is launched (the runtime derives grid and block sizes from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    /// A grid-stride loop over `items` work items of one element (or of 8 elements when
    /// `vector`), any grid size.
    Elementwise {
        /// Work items: elements, or groups of 8 elements when `vector`.
        items: u64,
        /// Whether each item is 8 consecutive elements (vector loads and stores).
        vector: bool,
    },
    /// One block of `threads` threads per row.
    Rows {
        /// Rows, one block each.
        rows: u64,
        /// Threads per block (a multiple of 32).
        threads: u32,
    },
    /// The attention kernel: one block per (batch·head, tile of
    /// [`ATTENTION_BLOCK_Q`] queries).
    Attention {
        /// Blocks along x: query tiles.
        query_tiles: u32,
        /// Blocks along y: batch × heads.
        batch_heads: u32,
    },
}

/// The CUDA C source of one kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelSource {
    /// The `extern "C"` entry point (also the PTX `.entry` name).
    pub name: String,
    /// The complete translation unit.
    pub source: String,
    /// How to launch it.
    pub launch: Launch,
}

/// The storage type name of `dtype` in generated code and the suffix of its load/store
/// helpers. `None` for integers, which no generated kernel reads.
pub(crate) fn storage(dtype: DType) -> Option<(&'static str, &'static str)> {
    Some(match dtype {
        DType::F32 => ("float", "f32"),
        DType::F16 => ("hyv_u16", "f16"),
        DType::BF16 => ("hyv_u16", "bf16"),
        DType::Bool => ("hyv_u8", "bool"),
        DType::I32 | DType::I64 => return None,
    })
}

/// A stable 64-bit FNV-1a hash (kernel names and cache keys must not change between
/// builds, which `std`'s hasher does not promise).
pub fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        // Separate the parts, so ("ab", "c") and ("a", "bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// An unsigned integer type of `dtype`'s size: kernels that only move elements copy bits.
pub(crate) fn raw_type(dtype: DType) -> Option<&'static str> {
    Some(match dtype.size_in_bytes() {
        1 => "unsigned char",
        2 => "unsigned short",
        4 => "unsigned int",
        8 => "unsigned long long",
        _ => return None,
    })
}

/// A one-element-per-thread kernel: named `hyv_<label>_<hash of signature>`, its source
/// the prelude, `helpers`, then a 256-thread kernel taking `params` that runs `body` (C
/// statements on the 64-bit element index `e`) in a grid-stride loop over `count`
/// elements.
pub(crate) fn grid_stride_kernel(
    label: &str,
    signature: &str,
    helpers: &str,
    params: &[String],
    count: usize,
    body: &str,
) -> KernelSource {
    let name = format!("hyv_{label}_{:016x}", fnv1a(&[signature.as_bytes()]));
    let source = format!(
        "{PRELUDE}{helpers}\nextern \"C\" __global__ void __launch_bounds__(256) {name}({}) {{\n  \
         const unsigned long long step = (unsigned long long)gridDim.x * blockDim.x;\n  \
         for (unsigned long long e = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; \
         e < {count}ull; e += step) {{\n{body}  }}\n}}\n",
        params.join(", ")
    );
    KernelSource {
        name,
        source,
        launch: Launch::Elementwise {
            items: count as u64,
            vector: false,
        },
    }
}
