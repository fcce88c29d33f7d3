//! The Cranelift JIT for elementwise programs: accuracy of the vectorised math against f64
//! `std` over dense sweeps, every op against the scalar reference interpreter (SIMD body
//! and tail, f16/bf16, broadcast and strided inputs, several outputs), exact f16/bf16
//! conversions, the cache, errors, and a printed (never asserted) speed comparison.

use half::{bf16, f16};
use hyv_backend_cpu::jit::{
    reference, Access, BinaryFn, CmpFn, ElemType, Input, Inst, JitCompiler, JitKernel, Output,
    Program, UnaryFn,
};
use rand::{Rng, SeedableRng};
use std::sync::OnceLock;
use std::time::Instant;

fn jit() -> &'static JitCompiler {
    static JIT: OnceLock<JitCompiler> = OnceLock::new();
    JIT.get_or_init(|| JitCompiler::new().expect("host supported"))
}

fn contiguous(elem: ElemType) -> Input {
    Input {
        elem,
        access: Access::Contiguous,
    }
}

/// `out = f(in0)` with the given element types.
fn unary_program(f: UnaryFn, src: ElemType, dst: ElemType) -> Program {
    Program {
        name: format!("{f:?}"),
        inputs: vec![contiguous(src)],
        insts: vec![Inst::Input(0), Inst::Unary(f, 0)],
        outputs: vec![Output {
            value: 1,
            elem: dst,
        }],
    }
}

fn to_bytes(v: &[f32], elem: ElemType) -> Vec<u8> {
    match elem {
        ElemType::F32 => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ElemType::F16 => v
            .iter()
            .flat_map(|&x| f16::from_f32(x).to_le_bytes())
            .collect(),
        ElemType::Bf16 => v
            .iter()
            .flat_map(|&x| bf16::from_f32(x).to_le_bytes())
            .collect(),
    }
}

fn from_bytes(b: &[u8], elem: ElemType) -> Vec<f32> {
    match elem {
        ElemType::F32 => b
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        ElemType::F16 => b
            .chunks_exact(2)
            .map(|c| f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        ElemType::Bf16 => b
            .chunks_exact(2)
            .map(|c| bf16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
    }
}

/// Runs `kernel` (serially, or in parallel) on byte inputs, returning the output bytes.
fn run_bytes(kernel: &JitKernel, inputs: &[Vec<u8>], len: usize, parallel: bool) -> Vec<Vec<u8>> {
    let p = kernel.program();
    let mut outs: Vec<Vec<u8>> = p
        .outputs
        .iter()
        .map(|o| vec![0u8; len * o.elem.size()])
        .collect();
    let ins: Vec<&[u8]> = inputs.iter().map(|v| v.as_slice()).collect();
    let mut out_refs: Vec<&mut [u8]> = outs.iter_mut().map(|v| v.as_mut_slice()).collect();
    if parallel {
        kernel.run_parallel(&ins, &mut out_refs, len).unwrap();
    } else {
        kernel.run(&ins, &mut out_refs, len).unwrap();
    }
    outs
}

/// The reference interpreter's output bytes.
fn reference_bytes(p: &Program, inputs: &[Vec<u8>], len: usize) -> Vec<Vec<u8>> {
    let mut outs: Vec<Vec<u8>> = p
        .outputs
        .iter()
        .map(|o| vec![0u8; len * o.elem.size()])
        .collect();
    let ins: Vec<&[u8]> = inputs.iter().map(|v| v.as_slice()).collect();
    let mut out_refs: Vec<&mut [u8]> = outs.iter_mut().map(|v| v.as_mut_slice()).collect();
    reference::eval(p, &ins, &mut out_refs, len).unwrap();
    outs
}

/// The same compiler generating code without FMA.
fn jit_no_fma() -> &'static JitCompiler {
    static JIT: OnceLock<JitCompiler> = OnceLock::new();
    JIT.get_or_init(|| JitCompiler::new().expect("host supported").without_fma())
}

/// `f` applied by the JIT to f32 values.
fn jit_f32(f: UnaryFn, xs: &[f32]) -> Vec<f32> {
    jit_f32_with(jit(), f, xs)
}

/// `f` applied by code from `compiler` to f32 values.
fn jit_f32_with(compiler: &JitCompiler, f: UnaryFn, xs: &[f32]) -> Vec<f32> {
    let k = compiler
        .compile(&unary_program(f, ElemType::F32, ElemType::F32))
        .unwrap();
    let out = run_bytes(&k, &[to_bytes(xs, ElemType::F32)], xs.len(), true);
    from_bytes(&out[0], ElemType::F32)
}

/// The distance from `got` to `want` in units of the f32 spacing at `want`.
/// An infinite `got` counts as ±2¹²⁸ (where rounding overflows to), and exact when `want`
/// also rounds to it.
fn ulps(got: f32, want: f64) -> f64 {
    if got.is_infinite() && got == want as f32 {
        return 0.0;
    }
    let w = (want as f32).clamp(f32::MIN, f32::MAX);
    let got = if got.is_infinite() {
        2f64.powi(128).copysign(f64::from(got))
    } else {
        f64::from(got)
    };
    let spacing = if w.abs() < f32::MIN_POSITIVE {
        f64::from(f32::from_bits(1))
    } else {
        let e = (w.abs().to_bits() >> 23) as i32 - 127;
        2f64.powi(e - 23)
    };
    (got - want).abs() / spacing
}

fn sweep(lo: f64, hi: f64, n: usize) -> Vec<f32> {
    (0..=n)
        .map(|i| (lo + (hi - lo) * i as f64 / n as f64) as f32)
        .collect()
}

/// Max ulp error of `f` against `exact` over `xs`, checking results stay within `bound`.
fn max_ulps(f: UnaryFn, xs: &[f32], exact: fn(f64) -> f64, bound: f64) -> f64 {
    max_ulps_with(jit(), f, xs, exact, bound)
}

/// [`max_ulps`] for code from `compiler`.
fn max_ulps_with(
    compiler: &JitCompiler,
    f: UnaryFn,
    xs: &[f32],
    exact: fn(f64) -> f64,
    bound: f64,
) -> f64 {
    let got = jit_f32_with(compiler, f, xs);
    let mut worst = (0.0, 0.0f32);
    for (&x, &g) in xs.iter().zip(&got) {
        let u = ulps(g, exact(f64::from(x)));
        if u > worst.0 || u.is_nan() {
            worst = (u, x);
        }
    }
    println!("{f:?}: max {:.3} ulp (at x = {:e})", worst.0, worst.1);
    assert!(
        worst.0 <= bound,
        "{f:?}({:e}) is {} ulp off",
        worst.1,
        worst.0
    );
    worst.0
}

/// Max absolute error of `f` against `exact` over `xs`.
fn max_abs(f: UnaryFn, xs: &[f32], exact: fn(f64) -> f64, bound: f64) -> f64 {
    let got = jit_f32(f, xs);
    let mut worst = (0.0, 0.0f32);
    for (&x, &g) in xs.iter().zip(&got) {
        let e = (f64::from(g) - exact(f64::from(x))).abs();
        if e > worst.0 || e.is_nan() {
            worst = (e, x);
        }
    }
    println!(
        "{f:?}: max abs error {:.3e} (at x = {:e})",
        worst.0, worst.1
    );
    assert!(
        worst.0 <= bound,
        "{f:?}({:e}) is {:e} off",
        worst.1,
        worst.0
    );
    worst.0
}

fn specials(f: UnaryFn, cases: &[(f32, f32)]) {
    let xs: Vec<f32> = cases.iter().map(|c| c.0).collect();
    for ((x, want), got) in cases.iter().zip(jit_f32(f, &xs)) {
        let same = (want.is_nan() && got.is_nan()) || got.to_bits() == want.to_bits();
        assert!(same, "{f:?}({x}) = {got}, want {want}");
    }
}

const INF: f32 = f32::INFINITY;
const NAN: f32 = f32::NAN;

#[test]
fn exp_is_within_one_ulp_and_handles_specials() {
    max_ulps(UnaryFn::Exp, &sweep(-104.0, 89.0, 4_000_000), f64::exp, 1.5);
    specials(
        UnaryFn::Exp,
        &[
            (0.0, 1.0),
            (-0.0, 1.0),
            (100.0, INF),
            (89.0, INF),
            // e⁻¹⁰⁰ ≈ 3.7e-44 is a subnormal f32, not 0.
            (-100.0, (-100f32).exp()),
            (-104.0, 0.0),
            (-1000.0, 0.0),
            (INF, INF),
            (-INF, 0.0),
            (NAN, NAN),
        ],
    );
}

#[test]
fn log_is_within_one_ulp_from_subnormals_to_max() {
    // Every 61st positive bit pattern: subnormals through f32::MAX.
    let xs: Vec<f32> = (1..0x7f80_0000u32)
        .step_by(61)
        .map(f32::from_bits)
        .collect();
    max_ulps(UnaryFn::Log, &xs, f64::ln, 1.5);
    specials(
        UnaryFn::Log,
        &[
            (1.0, 0.0),
            (0.0, -INF),
            (-0.0, -INF),
            (-1.0, NAN),
            (-INF, NAN),
            (INF, INF),
            (NAN, NAN),
        ],
    );
}

#[test]
fn tanh_and_sigmoid_are_within_two_ulps() {
    let xs = sweep(-20.0, 20.0, 4_000_000);
    max_ulps(UnaryFn::Tanh, &xs, f64::tanh, 2.5);
    let small: Vec<f32> = xs.iter().map(|x| x * 1e-4).collect();
    max_ulps(UnaryFn::Tanh, &small, f64::tanh, 2.5);
    max_ulps(UnaryFn::Sigmoid, &xs, |x| 1.0 / (1.0 + (-x).exp()), 3.0);
    specials(
        UnaryFn::Tanh,
        &[
            (INF, 1.0),
            (-INF, -1.0),
            (0.0, 0.0),
            (-0.0, -0.0),
            (NAN, NAN),
        ],
    );
    specials(UnaryFn::Sigmoid, &[(INF, 1.0), (-INF, 0.0), (NAN, NAN)]);
}

/// erf in f64: its Taylor series below 2.5, the continued fraction of erfc above.
fn erf64(x: f64) -> f64 {
    let a = x.abs();
    let r = if a < 2.5 {
        let (mut term, mut sum, mut n) = (a, a, 0.0);
        while term.abs() > 1e-17 * sum {
            n += 1.0;
            term *= -a * a / n;
            sum += term / (2.0 * n + 1.0);
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    } else {
        let mut f = a;
        for k in (1..200).rev() {
            f = a + f64::from(k) / 2.0 / f;
        }
        1.0 - (-a * a).exp() / std::f64::consts::PI.sqrt() / f
    };
    r.copysign(x)
}

#[test]
fn erf_is_within_its_absolute_bound() {
    max_abs(UnaryFn::Erf, &sweep(-20.0, 20.0, 4_000_000), erf64, 5e-7);
    specials(
        UnaryFn::Erf,
        &[(INF, 1.0), (-INF, -1.0), (0.0, 0.0), (NAN, NAN)],
    );
}

#[test]
fn activations_are_accurate() {
    let xs = sweep(-20.0, 20.0, 4_000_000);
    max_ulps(UnaryFn::Silu, &xs, |x| x / (1.0 + (-x).exp()), 3.0);
    let xs = sweep(-6.0, 6.0, 2_000_000);
    let gelu_tanh: fn(f64) -> f64 = |x| {
        let c = (2.0 / std::f64::consts::PI).sqrt();
        0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).tanh())
    };
    max_abs(UnaryFn::GeluTanh, &xs, gelu_tanh, 1e-6);
    max_abs(
        UnaryFn::GeluErf,
        &xs,
        |x| 0.5 * x * (1.0 + erf64(x / 2f64.sqrt())),
        1.5e-6,
    );
}

#[test]
fn sin_cos_are_accurate_to_1e4() {
    let xs = sweep(-1e4, 1e4, 4_000_000);
    max_abs(UnaryFn::Sin, &xs, f64::sin, 1.2e-7);
    max_abs(UnaryFn::Cos, &xs, f64::cos, 1.2e-7);
    max_ulps(UnaryFn::Sin, &sweep(-3.0, 3.0, 1_000_000), f64::sin, 2.0);
    max_ulps(UnaryFn::Cos, &sweep(-1.5, 1.5, 1_000_000), f64::cos, 2.0);
    specials(
        UnaryFn::Sin,
        &[(0.0, 0.0), (INF, NAN), (-INF, NAN), (NAN, NAN)],
    );
    specials(UnaryFn::Cos, &[(0.0, 1.0), (INF, NAN), (NAN, NAN)]);
}

fn random(n: usize, lo: f32, hi: f32, seed: u64) -> Vec<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

/// Whether `got` is within `rel·|want| + abs` of `want`, widened by one rounding of the
/// output type (both may round differently when the f32 values differ in the last bit).
fn close(got: f32, want: f32, rel: f32, abs: f32, out: ElemType) -> bool {
    let (out_rel, out_abs) = match out {
        ElemType::F32 => (0.0, 0.0),
        ElemType::F16 => (1.0 / 1024.0, 6e-8),
        ElemType::Bf16 => (1.0 / 128.0, 0.0),
    };
    (got.is_nan() && want.is_nan())
        || got == want
        || (got - want).abs() <= (rel + out_rel) * want.abs() + abs + out_abs
}

/// Compares the JIT (serial and parallel) with the reference interpreter on `inputs`.
fn check_program(p: &Program, inputs: &[Vec<u8>], len: usize, rel: f32, abs: f32) {
    let kernel = jit().compile(p).unwrap();
    let want = reference_bytes(p, inputs, len);
    for parallel in [false, true] {
        let got = run_bytes(&kernel, inputs, len, parallel);
        for (m, out) in p.outputs.iter().enumerate() {
            let g = from_bytes(&got[m], out.elem);
            let w = from_bytes(&want[m], out.elem);
            for i in 0..len {
                assert!(
                    close(g[i], w[i], rel, abs, out.elem),
                    "{}: output {m}[{i}] = {}, want {} (len {len}, inputs {:?})",
                    p.name,
                    g[i],
                    w[i],
                    p.inputs
                );
            }
        }
    }
}

const LENS: [usize; 6] = [0, 1, 3, 4, 5, 1023];
const TYPES: [(ElemType, ElemType); 5] = [
    (ElemType::F32, ElemType::F32),
    (ElemType::F16, ElemType::F16),
    (ElemType::Bf16, ElemType::Bf16),
    (ElemType::F32, ElemType::F16),
    (ElemType::Bf16, ElemType::F32),
];

/// (relative, absolute) tolerance of the JIT against the scalar reference.
fn tolerance(f: UnaryFn) -> (f32, f32) {
    match f {
        UnaryFn::Exp | UnaryFn::Log | UnaryFn::Tanh | UnaryFn::Sigmoid | UnaryFn::Silu => {
            (4e-7, 0.0)
        }
        UnaryFn::Erf | UnaryFn::Sin | UnaryFn::Cos => (0.0, 5e-7),
        UnaryFn::GeluTanh | UnaryFn::GeluErf => (1e-6, 1e-6),
        _ => (0.0, 0.0),
    }
}

#[test]
fn every_unary_op_matches_the_reference() {
    for f in UnaryFn::ALL {
        let (rel, abs) = tolerance(f);
        for (src, dst) in TYPES {
            let mut p = unary_program(f, src, dst);
            p.name = format!("{f:?} {src:?}->{dst:?}");
            for len in LENS {
                let mut x = random(len, -10.0, 10.0, len as u64);
                if len > 4 {
                    x[2] = 0.0;
                    x[3] = -0.0;
                }
                check_program(&p, &[to_bytes(&x, src)], len, rel, abs);
            }
        }
    }
}

#[test]
fn every_binary_op_matches_the_reference() {
    for f in BinaryFn::ALL {
        for (src, dst) in TYPES {
            let p = Program {
                name: format!("{f:?} {src:?}->{dst:?}"),
                inputs: vec![contiguous(src), contiguous(src)],
                insts: vec![Inst::Input(0), Inst::Input(1), Inst::Binary(f, 0, 1)],
                outputs: vec![Output {
                    value: 2,
                    elem: dst,
                }],
            };
            for len in LENS {
                let (a, b, rel) = if f == BinaryFn::Pow {
                    (random(len, 0.0, 4.0, 1), random(len, -4.0, 4.0, 2), 2e-6)
                } else {
                    (
                        random(len, -10.0, 10.0, 1),
                        random(len, -10.0, 10.0, 2),
                        0.0,
                    )
                };
                check_program(&p, &[to_bytes(&a, src), to_bytes(&b, src)], len, rel, 0.0);
            }
        }
    }
}

#[test]
fn pow_follows_powf_special_cases() {
    let vals = [
        0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, 2.5, -2.5, INF, -INF, NAN,
    ];
    let (a, b): (Vec<f32>, Vec<f32>) = vals
        .iter()
        .flat_map(|&a| vals.iter().map(move |&b| (a, b)))
        .unzip();
    let p = Program {
        name: "pow specials".into(),
        inputs: vec![contiguous(ElemType::F32), contiguous(ElemType::F32)],
        insts: vec![
            Inst::Input(0),
            Inst::Input(1),
            Inst::Binary(BinaryFn::Pow, 0, 1),
        ],
        outputs: vec![Output {
            value: 2,
            elem: ElemType::F32,
        }],
    };
    let ins = [to_bytes(&a, ElemType::F32), to_bytes(&b, ElemType::F32)];
    let k = jit().compile(&p).unwrap();
    let got = from_bytes(&run_bytes(&k, &ins, a.len(), false)[0], ElemType::F32);
    for i in 0..a.len() {
        let want = a[i].powf(b[i]);
        let ok = (want.is_nan() && got[i].is_nan())
            || (got[i] == want && got[i].is_sign_negative() == want.is_sign_negative())
            || (got[i] - want).abs() <= 1e-6 * want.abs();
        assert!(ok, "pow({}, {}) = {}, want {want}", a[i], b[i], got[i]);
    }
}

#[test]
fn compare_and_select_match_the_reference() {
    let n = 1023;
    let mut x = random(n, -3.0, 3.0, 7);
    let mut y = random(n, -3.0, 3.0, 8);
    let mut z = random(n, -1.0, 1.0, 9);
    for i in (0..n).step_by(5) {
        y[i] = x[i];
        z[i] = 0.0;
    }
    for i in (0..n).step_by(11) {
        x[i] = NAN;
        z[i + 1] = NAN;
    }
    for f in CmpFn::ALL {
        let p = Program {
            name: format!("{f:?} select"),
            inputs: vec![contiguous(ElemType::F32); 3],
            insts: vec![
                Inst::Input(0),
                Inst::Input(1),
                Inst::Input(2),
                Inst::Compare(f, 0, 1),
                Inst::Select {
                    cond: 3,
                    a: 0,
                    b: 1,
                },
                Inst::Select {
                    cond: 2,
                    a: 0,
                    b: 1,
                },
            ],
            outputs: [3, 4, 5]
                .map(|value| Output {
                    value,
                    elem: ElemType::F32,
                })
                .to_vec(),
        };
        let ins = [&x, &y, &z].map(|v| to_bytes(v, ElemType::F32));
        for len in LENS {
            check_program(&p, &ins, len, 0.0, 0.0);
        }
    }
}

#[test]
fn broadcast_and_strided_inputs_with_several_outputs() {
    // out0 = x·s + row - col + 0.25 (f32), out1 = silu(max(row, col)) (f16),
    // out2 = exp(x)·s (bf16), with s a bf16 scalar, row = r[i % 7] (f16) and
    // col = c[i / 5 % 3] (f32).
    let p = Program {
        name: "broadcasts".into(),
        inputs: vec![
            contiguous(ElemType::F32),
            Input {
                elem: ElemType::Bf16,
                access: Access::Scalar,
            },
            Input {
                elem: ElemType::F16,
                access: Access::Strided { div: 1, period: 7 },
            },
            Input {
                elem: ElemType::F32,
                access: Access::Strided { div: 5, period: 3 },
            },
        ],
        insts: vec![
            Inst::Input(0),
            Inst::Input(1),
            Inst::Input(2),
            Inst::Input(3),
            Inst::Binary(BinaryFn::Mul, 0, 1),
            Inst::Binary(BinaryFn::Add, 4, 2),
            Inst::Binary(BinaryFn::Sub, 5, 3),
            Inst::constant(0.25),
            Inst::Binary(BinaryFn::Add, 6, 7),
            Inst::Binary(BinaryFn::Max, 2, 3),
            Inst::Unary(UnaryFn::Silu, 9),
            Inst::Unary(UnaryFn::Exp, 0),
            Inst::Binary(BinaryFn::Mul, 11, 1),
        ],
        outputs: vec![
            Output {
                value: 8,
                elem: ElemType::F32,
            },
            Output {
                value: 10,
                elem: ElemType::F16,
            },
            Output {
                value: 12,
                elem: ElemType::Bf16,
            },
        ],
    };
    for len in LENS {
        let ins = [
            to_bytes(&random(len, -2.0, 2.0, 1), ElemType::F32),
            to_bytes(&[1.5], ElemType::Bf16),
            to_bytes(&random(7, -2.0, 2.0, 2), ElemType::F16),
            to_bytes(&random(3, -2.0, 2.0, 3), ElemType::F32),
        ];
        check_program(&p, &ins, len, 4e-7, 0.0);
    }
}

/// `out = in` (a load and a store), from `src` to `dst`.
fn copy_program(src: ElemType, dst: ElemType) -> Program {
    Program {
        name: format!("copy {src:?}->{dst:?}"),
        inputs: vec![contiguous(src)],
        insts: vec![Inst::Input(0)],
        outputs: vec![Output {
            value: 0,
            elem: dst,
        }],
    }
}

#[test]
fn f16_and_bf16_conversions_are_exact() {
    // Widening: every 16-bit pattern.
    let all: Vec<u8> = (0..=u16::MAX).flat_map(|h| h.to_le_bytes()).collect();
    for (src, widen) in [
        (
            ElemType::F16,
            (|h| f16::from_bits(h).to_f32()) as fn(u16) -> f32,
        ),
        (ElemType::Bf16, |h| bf16::from_bits(h).to_f32()),
    ] {
        let k = jit().compile(&copy_program(src, ElemType::F32)).unwrap();
        let got = from_bytes(
            &run_bytes(&k, std::slice::from_ref(&all), 65536, false)[0],
            ElemType::F32,
        );
        for (h, g) in (0..=u16::MAX).zip(got) {
            let w = widen(h);
            assert!(
                (w.is_nan() && g.is_nan()) || w.to_bits() == g.to_bits(),
                "{src:?} {h:#06x}: {g} want {w}"
            );
        }
    }
    // Narrowing: random bit patterns plus rounding ties, the f16 overflow edge and
    // subnormals.
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let mut xs: Vec<f32> = (0..1_000_000)
        .map(|_| f32::from_bits(rng.random()))
        .collect();
    xs.extend(random(100_000, -70_000.0, 70_000.0, 6));
    xs.extend(random(100_000, -1e-4, 1e-4, 7));
    xs.extend([
        65504.0,
        65519.99,
        65520.0,
        1.0 + 1.0 / 2048.0,
        1.0 + 3.0 / 2048.0,
        1.0 + 1.0 / 256.0,
        5.960_464_5e-8,
        2.980_232_2e-8,
        2.980_233e-8,
        6.103_515_6e-5,
        INF,
        -INF,
        0.0,
        -0.0,
    ]);
    let input = to_bytes(&xs, ElemType::F32);
    for (dst, narrow) in [
        (
            ElemType::F16,
            (|x| f16::from_f32(x).to_bits()) as fn(f32) -> u16,
        ),
        (ElemType::Bf16, |x| bf16::from_f32(x).to_bits()),
    ] {
        let k = jit().compile(&copy_program(ElemType::F32, dst)).unwrap();
        let got = &run_bytes(&k, std::slice::from_ref(&input), xs.len(), true)[0];
        for (x, g) in xs.iter().zip(got.chunks_exact(2)) {
            let g = u16::from_le_bytes([g[0], g[1]]);
            let w = narrow(*x);
            let nan = |h: u16| match dst {
                ElemType::F16 => f16::from_bits(h).is_nan(),
                _ => bf16::from_bits(h).is_nan(),
            };
            assert!(
                (nan(w) && nan(g)) || w == g,
                "{dst:?} of {x:e}: {g:#06x} want {w:#06x}"
            );
        }
    }
}

#[test]
fn identical_programs_compile_once() {
    let compiler = JitCompiler::new().unwrap();
    let p = unary_program(UnaryFn::Silu, ElemType::F32, ElemType::F32);
    compiler.compile(&p).unwrap();
    compiler.compile(&p.clone()).unwrap();
    assert_eq!(compiler.cached(), 1);
    compiler
        .compile(&unary_program(UnaryFn::Silu, ElemType::F32, ElemType::F16))
        .unwrap();
    assert_eq!(compiler.cached(), 2);
}

#[test]
fn bad_programs_and_buffers_are_errors() {
    let mut p = unary_program(UnaryFn::Exp, ElemType::F32, ElemType::F32);
    p.name = "broken".into();
    p.insts[1] = Inst::Unary(UnaryFn::Exp, 1);
    let e = jit().compile(&p).err().unwrap();
    assert!(e.contains("broken") && e.contains("instruction 1"), "{e}");
    p.insts[1] = Inst::Unary(UnaryFn::Exp, 0);
    p.outputs.clear();
    assert!(jit().compile(&p).is_err());

    let k = jit()
        .compile(&unary_program(UnaryFn::Exp, ElemType::F32, ElemType::F32))
        .unwrap();
    let x = vec![0u8; 12];
    let mut out = vec![0u8; 16];
    let e = k.run(&[&x], &mut [&mut out], 4).unwrap_err();
    assert!(e.contains("input 0 has 12 bytes"), "{e}");
    let e = k.run(&[&x, &x], &mut [&mut out], 3).unwrap_err();
    assert!(e.contains("takes 1 inputs"), "{e}");
    let e = k.run_parallel(&[&x], &mut [&mut out[..8]], 3).unwrap_err();
    assert!(e.contains("output 0 has 8 bytes"), "{e}");

    // Broadcast inputs need only the elements they read; nothing at all for len = 0.
    let mut p = unary_program(UnaryFn::Neg, ElemType::F16, ElemType::F32);
    p.inputs[0].access = Access::Strided { div: 2, period: 4 };
    let k = jit().compile(&p).unwrap();
    let mut out = vec![0u8; 20];
    let e = k.run(&[&[0u8; 4]], &mut [&mut out], 5).unwrap_err();
    assert!(e.contains("needs 6"), "{e}");
    k.run(&[&[0u8; 4]], &mut [&mut out], 4).unwrap();
    p.inputs[0].access = Access::Scalar;
    let k = jit().compile(&p).unwrap();
    k.run(&[&[]], &mut [&mut []], 0).unwrap();
    k.run_parallel(&[&[]], &mut [&mut []], 0).unwrap();
    assert!(k.run(&[&[]], &mut [&mut out], 1).is_err());
}

/// Prints JIT vs scalar throughput for `silu(x)·y + z` over 16M f32 elements (never
/// asserts a time: the machine is shared).
#[test]
fn speed_report_silu_mul_add() {
    let n = 16 << 20;
    let p = Program {
        name: "silu(x)*y+z".into(),
        inputs: vec![contiguous(ElemType::F32); 3],
        insts: vec![
            Inst::Input(0),
            Inst::Input(1),
            Inst::Input(2),
            Inst::Unary(UnaryFn::Silu, 0),
            Inst::Binary(BinaryFn::Mul, 3, 1),
            Inst::Binary(BinaryFn::Add, 4, 2),
        ],
        outputs: vec![Output {
            value: 5,
            elem: ElemType::F32,
        }],
    };
    let t = Instant::now();
    let k = jit().compile(&p).unwrap();
    let compile = t.elapsed();
    let (x, y, z) = (
        random(n, -8.0, 8.0, 1),
        random(n, -1.0, 1.0, 2),
        random(n, -1.0, 1.0, 3),
    );
    let ins = [&x, &y, &z].map(|v| to_bytes(v, ElemType::F32));
    let refs: Vec<&[u8]> = ins.iter().map(|v| v.as_slice()).collect();
    let mut out = vec![0u8; 4 * n];
    let gbs = |s: f64| (16 * n) as f64 / s / 1e9;
    let best = |f: &mut dyn FnMut()| {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let jit1 = best(&mut || k.run(&refs, &mut [&mut out], n).unwrap());
    let jitp = best(&mut || k.run_parallel(&refs, &mut [&mut out], n).unwrap());
    let mut o = vec![0f32; n];
    let rust = best(&mut || {
        for i in 0..n {
            o[i] = x[i] / (1.0 + (-x[i]).exp()) * y[i] + z[i];
        }
    });
    let interp = best(&mut || reference::eval(&p, &refs, &mut [&mut out], n).unwrap());
    println!("silu(x)*y+z over {n} f32 (256 MB of traffic), best of 3; compile {compile:?}");
    for (what, s) in [
        ("JIT f32x4, 1 thread", jit1),
        ("JIT f32x4, rayon", jitp),
        ("Rust scalar loop (std exp), 1 thread", rust),
        ("reference interpreter, 1 thread", interp),
    ] {
        println!("  {what:40} {:8.2} ms {:7.2} GB/s", s * 1e3, gbs(s));
    }
    std::hint::black_box(&o);
}

/// Beyond 1e4 the error grows with |x|; past 2²²·π/2 the result is NaN.
#[test]
fn sin_cos_beyond_1e4() {
    for (lo, hi, bound) in [(1e4, 1e5, 1e-6), (1e5, 1e6, 1e-5), (1e6, 6e6, 1e-4)] {
        let xs = sweep(lo, hi, 1_000_000);
        max_abs(UnaryFn::Sin, &xs, f64::sin, bound);
        max_abs(UnaryFn::Cos, &xs, f64::cos, bound);
    }
    for f in [UnaryFn::Sin, UnaryFn::Cos] {
        let big = jit_f32(f, &[6.59e6, -1e7, 1e30, -f32::MAX]);
        assert!(big.iter().all(|v| v.is_nan()), "{f:?}: {big:?}");
        let edge = jit_f32(f, &[6.58e6, -6.58e6]);
        assert!(edge.iter().all(|v| v.abs() <= 1.0), "{f:?}: {edge:?}");
    }
}

/// The code for hosts without FMA (separate multiplies and adds) keeps the accuracy.
#[test]
fn code_without_fma_is_as_accurate() {
    let c = jit_no_fma();
    assert!(!c.uses_fma());
    max_ulps_with(
        c,
        UnaryFn::Exp,
        &sweep(-104.0, 89.0, 1_000_000),
        f64::exp,
        1.5,
    );
    let xs: Vec<f32> = (1..0x7f80_0000u32)
        .step_by(251)
        .map(f32::from_bits)
        .collect();
    max_ulps_with(c, UnaryFn::Log, &xs, f64::ln, 1.5);
    let xs = sweep(-20.0, 20.0, 1_000_000);
    max_ulps_with(c, UnaryFn::Tanh, &xs, f64::tanh, 2.5);
    max_ulps_with(c, UnaryFn::Sin, &sweep(-3.0, 3.0, 1_000_000), f64::sin, 2.0);
    let xs = sweep(-1e4, 1e4, 1_000_000);
    for (f, exact) in [
        (UnaryFn::Sin, f64::sin as fn(f64) -> f64),
        (UnaryFn::Cos, f64::cos),
    ] {
        let got = jit_f32_with(c, f, &xs);
        let worst = xs
            .iter()
            .zip(&got)
            .map(|(&x, &g)| (f64::from(g) - exact(f64::from(x))).abs())
            .fold(0.0, f64::max);
        println!("{f:?} without FMA: max abs error {worst:.3e} on [-1e4, 1e4]");
        assert!(worst <= 1.2e-7, "{f:?}: {worst:e}");
    }
}

#[test]
fn rounding_to_16_bits_in_registers_is_exact_on_special_values() {
    // Ties, the f16 overflow edge, subnormals, signed zeros, infinities and NaN; then a
    // dense sweep of bit patterns across f32's range.
    let mut x = vec![
        0.0,
        -0.0,
        1.0 + 1.0 / 256.0,
        1.0 + 3.0 / 256.0,
        1.0 + 1.0 / 2048.0,
        65504.0,
        65519.0,
        65520.0,
        -65520.0,
        1e-8,
        6e-8,
        -3e-5,
        1e-40,
        3.4e38,
        f32::MAX,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
    ];
    x.extend((0..4096u32).map(|i| f32::from_bits(i.wrapping_mul(1_048_573))));
    for f in [UnaryFn::RoundBf16, UnaryFn::RoundF16] {
        let p = unary_program(f, ElemType::F32, ElemType::F32);
        check_program(&p, &[to_bytes(&x, ElemType::F32)], x.len(), 0.0, 0.0);
    }
}
