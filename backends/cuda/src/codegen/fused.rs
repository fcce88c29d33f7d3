//! Kernels of fused programs: a grid-stride elementwise kernel (8-wide vector path or
//! scalar path) for a store tail, a block-per-row kernel for a row-reduction tail.

use super::access::{extent, offset, vector_read, VectorRead, VECTOR};
use super::expr::{reg, statements};
use super::integer::integer_kernel;
use super::movement::movement_kernel;
use super::reduce::reduce_kernel;
use super::{fnv1a, storage, KernelSource, Launch, PRELUDE};
use hyv_ir::{DType, Graph, Op, ReduceOp, TensorType};
use hyv_passes::fused::{plan, single_op, FusedProgram, Step, Tail};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The kernel of `program`, named `hyv_<label>_<hash of the program>` (so identical
/// programs share a name, and a name identifies its program). `None` when the program
/// reads or writes integers (which [`hyv_passes::fused::build`] never produces).
pub fn fused_kernel(program: &FusedProgram, label: &str) -> Option<KernelSource> {
    let label: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let hash = fnv1a(&[format!("{program:?}").as_bytes()]);
    let name = format!("hyv_{label}_{hash:016x}");
    let params = params(program)?;
    let (body, launch) = match program.tail {
        Tail::Store => store_body(program),
        Tail::ReduceRows(op) => rows_body(program, op),
    };
    let threads = match launch {
        Launch::Rows { threads, .. } => threads,
        _ => 256,
    };
    let source = format!(
        "{PRELUDE}\nextern \"C\" __global__ void __launch_bounds__({threads}) {name}({params}) {{\n{body}}}\n"
    );
    Some(KernelSource {
        name,
        source,
        launch,
    })
}

/// The kernels of a fused graph's fusion groups (see [`hyv_passes::fused::plan`]), each
/// once, in order of first use.
pub fn graph_kernels(graph: &Graph) -> Vec<KernelSource> {
    let mut seen = BTreeMap::new();
    let mut kernels = Vec::new();
    for step in plan(graph) {
        if let Step::Fused { root, program, .. } = step {
            let label = format!("fused_{}", graph.node(root).op.name());
            if let Some(k) = fused_kernel(&program, &label) {
                if seen.insert(k.name.clone(), ()).is_none() {
                    kernels.push(k);
                }
            }
        }
    }
    kernels
}

/// The kernel running eager op `op` (output `out`, operands `inputs`; parameters: the
/// operands in order, then the output): through the fused code generator as a one-op
/// program (elementwise ops on floats and bools, float reductions over the last axis,
/// broadcast, permute), else a [`reduce_kernel`] (other reductions), an
/// [`integer_kernel`] (integer arithmetic, comparisons and casts) or a
/// [`movement_kernel`] (slice, concat, pad, iota, integer broadcast and permute). `None`
/// for every other op.
pub fn eager_kernel(op: &Op, out: &TensorType, inputs: &[TensorType]) -> Option<KernelSource> {
    match (single_op(op, out, inputs), op, inputs) {
        (Some(program), _, _) => fused_kernel(&program, op.name()),
        (None, Op::Reduce { .. }, [x]) => reduce_kernel(op, out, x),
        (None, _, _) => {
            integer_kernel(op, out, inputs).or_else(|| movement_kernel(op, out, inputs))
        }
    }
}

/// The parameter list: one `const T* __restrict__ aK` per kernel operand, then `out`.
fn params(program: &FusedProgram) -> Option<String> {
    let count = program
        .inputs
        .iter()
        .map(|a| a.operand + 1)
        .max()
        .unwrap_or(0);
    let mut dtypes: Vec<Option<DType>> = vec![None; count];
    for a in &program.inputs {
        dtypes[a.operand] = Some(a.dtype);
    }
    let mut params = Vec::new();
    for (k, d) in dtypes.iter().enumerate() {
        // An operand no access reads cannot occur, but it still takes its argument slot.
        let ty = d.map_or(Some("void"), |d| storage(d).map(|s| s.0))?;
        params.push(format!("const {ty}* __restrict__ a{k}"));
    }
    params.push(format!(
        "{}* __restrict__ out",
        storage(program.out_dtype)?.0
    ));
    Some(params.join(", "))
}

/// The index type: 32-bit when every element count and offset fits.
fn index_type(program: &FusedProgram) -> &'static str {
    let numel: usize = program.shape.iter().product();
    let max = program.inputs.iter().map(extent).fold(numel, usize::max);
    // Half the range: a grid-stride loop steps up to 2^24 past the last element.
    if max < (u32::MAX / 2) as usize {
        "unsigned int"
    } else {
        "unsigned long long"
    }
}

/// The suffix of the load/store helpers of `dtype`.
fn suffix(dtype: DType) -> &'static str {
    storage(dtype).map_or("f32", |s| s.1)
}

/// A store tail: every element of the iteration space computed and stored.
fn store_body(program: &FusedProgram) -> (String, Launch) {
    let numel: usize = program.shape.iter().product();
    let idx = index_type(program);
    let n_in = program.inputs.len().max(1);
    let result = reg(program.result);
    let out = suffix(program.out_dtype);
    let mut b = String::new();
    let w = |b: &mut String, line: String| writeln!(b, "{line}").expect("writing to a String");
    w(
        &mut b,
        format!("  const {idx} step = ({idx})gridDim.x * blockDim.x;"),
    );
    let vector = numel.is_multiple_of(VECTOR);
    if vector {
        let items = numel / VECTOR;
        w(&mut b, format!("  for ({idx} v = ({idx})blockIdx.x * blockDim.x + threadIdx.x; v < {items}u; v += step) {{"));
        w(&mut b, format!("    const {idx} e0 = v * {VECTOR}u;"));
        for (i, a) in program.inputs.iter().enumerate() {
            let ld = suffix(a.dtype);
            let k = a.operand;
            w(&mut b, format!("    float x{i}[{VECTOR}];"));
            match vector_read(a) {
                VectorRead::Vector => w(
                    &mut b,
                    format!("    hyv_ld8_{ld}(a{k}, {}, x{i});", offset(a, "e0")),
                ),
                VectorRead::Splat => {
                    w(
                        &mut b,
                        format!(
                            "    {{ const float s = hyv_ld_{ld}(a{k}, {});",
                            offset(a, "e0")
                        ),
                    );
                    w(
                        &mut b,
                        format!("      for (int j = 0; j < {VECTOR}; ++j) x{i}[j] = s; }}"),
                    );
                }
                VectorRead::Gather => {
                    w(&mut b, "#pragma unroll".into());
                    w(&mut b, format!("    for ({idx} j = 0; j < {VECTOR}u; ++j) x{i}[j] = hyv_ld_{ld}(a{k}, {});", offset(a, "(e0 + j)")));
                }
            }
        }
        w(&mut b, format!("    float o[{VECTOR}];"));
        w(&mut b, "#pragma unroll".into());
        w(&mut b, format!("    for (int j = 0; j < {VECTOR}; ++j) {{"));
        w(&mut b, format!("      float l[{n_in}];"));
        for i in 0..program.inputs.len() {
            w(&mut b, format!("      l[{i}] = x{i}[j];"));
        }
        b.push_str(&statements(program, "      "));
        w(&mut b, format!("      o[j] = {result};"));
        w(&mut b, "    }".into());
        w(&mut b, format!("    hyv_st8_{out}(out, e0, o);"));
        w(&mut b, "  }".into());
    } else {
        w(&mut b, format!("  for ({idx} e = ({idx})blockIdx.x * blockDim.x + threadIdx.x; e < {numel}u; e += step) {{"));
        w(&mut b, format!("    float l[{n_in}];"));
        b.push_str(&load_inputs(program));
        b.push_str(&statements(program, "    "));
        w(&mut b, format!("    hyv_st_{out}(out, e, {result});"));
        w(&mut b, "  }".into());
    }
    let items = if vector { numel / VECTOR } else { numel } as u64;
    (b, Launch::Elementwise { items, vector })
}

/// The statements loading every input of `program` at element `e` into `l[i]` (the loop
/// body's indentation), shared by the scalar elementwise and the row-reduction bodies.
fn load_inputs(program: &FusedProgram) -> String {
    let mut b = String::new();
    for (i, a) in program.inputs.iter().enumerate() {
        let off = offset(a, "e");
        writeln!(
            b,
            "    l[{i}] = hyv_ld_{}(a{}, {off});",
            suffix(a.dtype),
            a.operand
        )
        .expect("writing to a String");
    }
    b
}

/// A row-reduction tail: one block per row (the last dimension of the iteration space),
/// each thread folding a strided slice of the row (coalesced reads), then a block-wide
/// shuffle reduction. Sums accumulate in f64, max propagates NaN, as on the CPU.
fn rows_body(program: &FusedProgram, op: ReduceOp) -> (String, Launch) {
    let numel: usize = program.shape.iter().product();
    let row = program.shape.last().copied().unwrap_or(1).max(1);
    let rows = numel / row;
    let threads: u32 = match row {
        0..=32 => 32,
        33..=128 => 128,
        129..=16384 => 256,
        _ => 1024,
    };
    let idx = index_type(program);
    let n_in = program.inputs.len().max(1);
    let result = reg(program.result);
    let (acc_ty, init, fold, finish) = match op {
        ReduceOp::Sum => (
            "double",
            "0.0",
            format!("acc += (double){result};"),
            "(float)hyv_block_sum(acc)",
        ),
        ReduceOp::Max => (
            "float",
            "hyv_neg_inf()",
            format!("acc = hyv_max(acc, {result});"),
            "hyv_block_max(acc)",
        ),
    };
    let mut b = String::new();
    let w = |b: &mut String, line: String| writeln!(b, "{line}").expect("writing to a String");
    w(&mut b, format!("  const {idx} row = blockIdx.x;"));
    w(&mut b, format!("  {acc_ty} acc = {init};"));
    w(
        &mut b,
        format!("  for ({idx} j = threadIdx.x; j < {row}u; j += blockDim.x) {{"),
    );
    w(&mut b, format!("    const {idx} e = row * {row}u + j;"));
    w(&mut b, format!("    float l[{n_in}];"));
    b.push_str(&load_inputs(program));
    b.push_str(&statements(program, "    "));
    w(&mut b, format!("    {fold}"));
    w(&mut b, "  }".into());
    w(&mut b, format!("  const float total = {finish};"));
    w(
        &mut b,
        format!(
            "  if (threadIdx.x == 0) hyv_st_{}(out, row, total);",
            suffix(program.out_dtype)
        ),
    );
    (
        b,
        Launch::Rows {
            rows: rows as u64,
            threads,
        },
    )
}
