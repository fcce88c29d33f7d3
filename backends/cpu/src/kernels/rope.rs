//! Rotary position embedding `x·cos + rot(x)·sin`, pairwise (interleaved) or half-split,
//! rows in parallel.

use crate::tensor::{load_f32, store_f32, Arg, GRAIN};
use hyv_ir::{Op, TensorData};
use rayon::prelude::*;

/// Evaluates `rope`.
pub fn eval(op: &Op, args: &[Arg]) -> Result<TensorData, String> {
    let (Op::Rope { interleaved }, [x, cos, sin]) = (op, args) else {
        return Err("not a rope with three operands".into());
    };
    let dims = x.dims();
    let (s, d) = (dims[dims.len() - 2], dims[dims.len() - 1]);
    let half = d / 2;
    let xv = load_f32(x.data, "input")?;
    let (cv, sv) = (load_f32(cos.data, "cos")?, load_f32(sin.data, "sin")?);
    // Every element is written below, except an odd `d`'s last one, which stays zero.
    let mut out = if d % 2 == 0 {
        crate::pool::buffer(xv.len())
    } else {
        crate::pool::zeros(xv.len())
    };
    out.par_chunks_mut(d)
        .zip(xv.par_chunks(d))
        .enumerate()
        .with_min_len((GRAIN / d).max(1))
        .for_each(|(ri, (o, x))| {
            let base = (ri % s) * d;
            let (c, sn) = (&cv[base..base + d], &sv[base..base + d]);
            if *interleaved {
                // Pairs (x₀, x₁) → (x₀·c₀ − x₁·s₀, x₁·c₁ + x₀·s₁).
                for (((o, x), c), sn) in o
                    .chunks_exact_mut(2)
                    .zip(x.chunks_exact(2))
                    .zip(c.chunks_exact(2))
                    .zip(sn.chunks_exact(2))
                {
                    o[0] = x[0] * c[0] + -x[1] * sn[0];
                    o[1] = x[1] * c[1] + x[0] * sn[1];
                }
            } else {
                // Halves (a, b) → (a·c − b·s, b·c + a·s), each half a vectorisable loop.
                let (xa, xb) = x.split_at(half);
                let (oa, ob) = o.split_at_mut(half);
                rotate_half(oa, xa, xb, &c[..half], &sn[..half], -1.0);
                rotate_half(ob, xb, xa, &c[half..], &sn[half..], 1.0);
            }
        });
    store_f32(x.ty.dtype, out)
}

/// `o = x·c + sign·other·s`, element by element.
fn rotate_half(o: &mut [f32], x: &[f32], other: &[f32], c: &[f32], s: &[f32], sign: f32) {
    for ((((o, &x), &y), &c), &s) in o.iter_mut().zip(x).zip(other).zip(c).zip(s) {
        *o = x * c + (sign * y) * s;
    }
}
