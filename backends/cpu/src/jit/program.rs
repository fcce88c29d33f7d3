//! The JIT's input: an elementwise expression program over N inputs and M outputs that
//! share one iteration space `[0, len)`.
//!
//! A program is a list of SSA instructions; instruction `k` defines value `k` and may only
//! use values defined before it. Every value is an f32 (f16/bf16 inputs widen exactly when
//! loaded, outputs round to nearest even when stored). Comparisons give 1.0 or 0.0, and
//! [`Inst::Select`] takes `a` where its condition is not 0.0 (NaN counts as true).
//!
//! Op coverage against the IR (`hyv_ir::{UnaryOp, BinaryOp, CmpOp}`): every float unary op
//! (neg, abs, exp, log, sqrt, rsqrt, recip, tanh, erf, sin, cos, floor), every float binary
//! op (add, sub, mul, div, max, min, pow), every comparison and select, plus the composites
//! sigmoid, relu, silu, gelu (tanh and erf) and square. Skipped: the bool-only ops `not`,
//! `and`, `or`, integer arithmetic and `cast` to or from integer/bool types, since values
//! here are floats only (so a select's condition must come from a comparison in the
//! program or a float input, not a bool tensor); float ↔ float casts are a load of one
//! element type and a store of another.

/// Storage type of an input or output buffer (little-endian, densely packed elements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElemType {
    /// IEEE binary32.
    F32,
    /// IEEE binary16.
    F16,
    /// bfloat16 (the top half of a binary32).
    Bf16,
}

impl ElemType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            ElemType::F32 => 4,
            ElemType::F16 | ElemType::Bf16 => 2,
        }
    }
}

/// How element `i` of the iteration space maps to an element of an input buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Element `i` (the buffer holds at least `len` elements).
    Contiguous,
    /// Element 0 for every `i`: a broadcast scalar.
    Scalar,
    /// Element `(i / div) % period`: a broadcast row (`div = 1`, `period` = row length) or
    /// column (`div` = row length, `period` = column length). Both must be at least 1.
    Strided {
        /// Divisor applied first.
        div: usize,
        /// Number of distinct elements the buffer holds.
        period: usize,
    },
}

impl Access {
    /// Buffer element read for iteration index `i`.
    pub fn index(self, i: usize) -> usize {
        match self {
            Access::Contiguous => i,
            Access::Scalar => 0,
            Access::Strided { div, period } => (i / div) % period,
        }
    }

    /// Elements the buffer must hold for an iteration space of `len` elements.
    pub fn needed(self, len: usize) -> usize {
        match self {
            Access::Contiguous => len,
            Access::Scalar | Access::Strided { .. } if len == 0 => 0,
            Access::Scalar => 1,
            Access::Strided { div, period } => period.min((len - 1) / div + 1),
        }
    }
}

/// One input buffer of a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Input {
    /// Element type of the buffer.
    pub elem: ElemType,
    /// How iteration indices map to buffer elements.
    pub access: Access,
}

/// One output buffer: the value it stores and its element type (always contiguous).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Output {
    /// The instruction whose value is stored.
    pub value: usize,
    /// Element type of the buffer.
    pub elem: ElemType,
}

/// Unary float functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryFn {
    /// `-x`.
    Neg,
    /// `|x|`.
    Abs,
    /// `e^x`.
    Exp,
    /// Natural logarithm (`log(0) = -inf`, negative gives NaN).
    Log,
    /// Square root.
    Sqrt,
    /// `1 / sqrt(x)`.
    Rsqrt,
    /// `1 / x`.
    Recip,
    /// Hyperbolic tangent.
    Tanh,
    /// Gauss error function (the Eigen/XLA rational approximation, as the CPU kernels).
    Erf,
    /// Sine.
    Sin,
    /// Cosine.
    Cos,
    /// Round toward negative infinity.
    Floor,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `max(x, 0)` (NaN stays NaN).
    Relu,
    /// `x · sigmoid(x)`.
    Silu,
    /// GELU with the tanh approximation.
    GeluTanh,
    /// Exact GELU `0.5·x·(1 + erf(x/√2))`.
    GeluErf,
    /// `x · x`.
    Square,
    /// `x` rounded to the nearest bf16 (ties to even; NaN stays NaN), kept as f32: an
    /// intermediate bf16 value of a fused chain.
    RoundBf16,
    /// `x` rounded to the nearest f16 (ties to even, overflow to ±inf), kept as f32.
    RoundF16,
}

impl UnaryFn {
    /// Every unary function, for tests and tools.
    pub const ALL: [UnaryFn; 20] = [
        UnaryFn::Neg,
        UnaryFn::Abs,
        UnaryFn::Exp,
        UnaryFn::Log,
        UnaryFn::Sqrt,
        UnaryFn::Rsqrt,
        UnaryFn::Recip,
        UnaryFn::Tanh,
        UnaryFn::Erf,
        UnaryFn::Sin,
        UnaryFn::Cos,
        UnaryFn::Floor,
        UnaryFn::Sigmoid,
        UnaryFn::Relu,
        UnaryFn::Silu,
        UnaryFn::GeluTanh,
        UnaryFn::GeluErf,
        UnaryFn::Square,
        UnaryFn::RoundBf16,
        UnaryFn::RoundF16,
    ];
}

/// Binary float functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryFn {
    /// `a + b`.
    Add,
    /// `a - b`.
    Sub,
    /// `a * b`.
    Mul,
    /// `a / b`.
    Div,
    /// Maximum; NaN if either operand is NaN.
    Max,
    /// Minimum; NaN if either operand is NaN.
    Min,
    /// `a^b` with C `powf`'s special cases.
    Pow,
}

impl BinaryFn {
    /// Every binary function, for tests and tools.
    pub const ALL: [BinaryFn; 7] = [
        BinaryFn::Add,
        BinaryFn::Sub,
        BinaryFn::Mul,
        BinaryFn::Div,
        BinaryFn::Max,
        BinaryFn::Min,
        BinaryFn::Pow,
    ];
}

/// Comparisons (ordered, so false on NaN, except `Ne`, which is true on NaN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpFn {
    /// `a == b`.
    Eq,
    /// `a != b`.
    Ne,
    /// `a < b`.
    Lt,
    /// `a <= b`.
    Le,
    /// `a > b`.
    Gt,
    /// `a >= b`.
    Ge,
}

impl CmpFn {
    /// Every comparison, for tests and tools.
    pub const ALL: [CmpFn; 6] = [
        CmpFn::Eq,
        CmpFn::Ne,
        CmpFn::Lt,
        CmpFn::Le,
        CmpFn::Gt,
        CmpFn::Ge,
    ];
}

/// One instruction; its value is referred to by its position in [`Program::insts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Inst {
    /// The element of input `k` at the current index.
    Input(usize),
    /// A constant, as the bit pattern of an f32 (so programs hash and compare exactly);
    /// build it with [`Inst::constant`].
    Const(u32),
    /// A unary function of a value.
    Unary(UnaryFn, usize),
    /// A binary function of two values.
    Binary(BinaryFn, usize, usize),
    /// A comparison: 1.0 when it holds, else 0.0.
    Compare(CmpFn, usize, usize),
    /// `if cond != 0 { a } else { b }`.
    Select {
        /// The condition value.
        cond: usize,
        /// Taken where the condition is not 0.0.
        a: usize,
        /// Taken where the condition is 0.0.
        b: usize,
    },
}

impl Inst {
    /// A constant instruction holding `v`.
    pub fn constant(v: f32) -> Inst {
        Inst::Const(v.to_bits())
    }

    /// The values this instruction reads.
    pub fn operands(&self) -> Vec<usize> {
        match *self {
            Inst::Input(_) | Inst::Const(_) => vec![],
            Inst::Unary(_, x) => vec![x],
            Inst::Binary(_, x, y) | Inst::Compare(_, x, y) => vec![x, y],
            Inst::Select { cond, a, b } => vec![cond, a, b],
        }
    }
}

/// An elementwise program: `outputs[m][i] = f_m(inputs[..][access(i)])` for every `i`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Program {
    /// A name for error messages and dumps (the fused group's name, say).
    pub name: String,
    /// The input buffers.
    pub inputs: Vec<Input>,
    /// The instructions, in definition order.
    pub insts: Vec<Inst>,
    /// The output buffers.
    pub outputs: Vec<Output>,
}

impl Program {
    /// Checks that every operand, input index and output value refers to something that
    /// exists, that strides are non-zero and that there is at least one output.
    pub fn validate(&self) -> Result<(), String> {
        let err = |m: String| Err(format!("program `{}`: {m}", self.name));
        if self.outputs.is_empty() {
            return err("has no outputs".into());
        }
        for (k, input) in self.inputs.iter().enumerate() {
            if let Access::Strided { div, period } = input.access {
                if div == 0 || period == 0 {
                    return err(format!("input {k} has a zero stride ({div}, {period})"));
                }
            }
        }
        for (k, inst) in self.insts.iter().enumerate() {
            if let Inst::Input(i) = *inst {
                if i >= self.inputs.len() {
                    return err(format!(
                        "instruction {k} reads input {i} of {}",
                        self.inputs.len()
                    ));
                }
            }
            if let Some(&v) = inst.operands().iter().find(|&&v| v >= k) {
                return err(format!(
                    "instruction {k} uses value {v}, not defined before it"
                ));
            }
        }
        for (m, out) in self.outputs.iter().enumerate() {
            if out.value >= self.insts.len() {
                return err(format!(
                    "output {m} stores value {} of {}",
                    out.value,
                    self.insts.len()
                ));
            }
        }
        Ok(())
    }
}

impl Program {
    /// Checks that the buffers match the program and hold enough elements for an iteration
    /// space of `len` elements (see [`Access::needed`]).
    pub fn check_buffers(
        &self,
        inputs: &[&[u8]],
        outputs: &[&mut [u8]],
        len: usize,
    ) -> Result<(), String> {
        let name = &self.name;
        if inputs.len() != self.inputs.len() || outputs.len() != self.outputs.len() {
            return Err(format!(
                "program `{name}` takes {} inputs and {} outputs, got {} and {}",
                self.inputs.len(),
                self.outputs.len(),
                inputs.len(),
                outputs.len()
            ));
        }
        for (k, (spec, buf)) in self.inputs.iter().zip(inputs).enumerate() {
            let need = spec.access.needed(len) * spec.elem.size();
            if buf.len() < need {
                return Err(format!(
                    "program `{name}`: input {k} has {} bytes, needs {need} for {len} elements",
                    buf.len()
                ));
            }
        }
        for (m, (spec, buf)) in self.outputs.iter().zip(outputs).enumerate() {
            let need = len * spec.elem.size();
            if buf.len() < need {
                return Err(format!(
                    "program `{name}`: output {m} has {} bytes, needs {need} for {len} elements",
                    buf.len()
                ));
            }
        }
        Ok(())
    }
}
