//! The text dump format: one node per line, types and every attribute explicit, the module
//! path as a trailing comment. [`parse`] reads back exactly what [`print`] writes.
//!
//! ```text
//! graph @mlp {
//!   %0 = input "x" : f32[2,8]
//!   %1 = parameter "fc1.weight" : f32[16,8]                 # fc1
//!   %2 = linear(%0, %1) {has_bias=false} : f32[2,16]        # fc1
//!   %3 = reduce_sum(%2) {axes=[1], keep_dims=false} : f32[2] # head
//!   return %3
//! }
//! ```
//!
//! Grammar, line by line (blank lines and lines starting with `#` are ignored):
//! * `graph @NAME {` — `NAME` is bare when it is made of `[A-Za-z0-9_.-]`, else a quoted string.
//! * `%N = OP(%a, %b, ...) {key=value, ...} : TYPE  # PATH` — `N` counts from 0 in order;
//!   `OP` is [`Op::name`]; ops without operands (sources) omit the parentheses; ops without
//!   attributes omit the braces. `input` and `parameter` take their name as a quoted string
//!   instead: `%0 = input "x" : f32[2]`. `TYPE` is `dtype[d0,d1,...]` (`f32[]` for a scalar).
//!   `PATH` is written bare when it has no surrounding whitespace, no control character and
//!   does not start with `"`; otherwise as a quoted string. An empty path has no comment.
//! * `return %a, %b, ...` then `}`.
//!
//! A node in a fusion group (see [`crate::Graph::group`]) has the extra attribute `group=N`,
//! written last: `%5 = exp(%4) {group=2} : f32[4,8]`.
//!
//! Attribute values: integers, `true`/`false`, dtypes (`to=bf16`), lists `[1, 2]`, pairs
//! `[(1, 1), (0, 2)]` (conv padding), strings (`group="sp"`), `mode=replicate` or
//! `mode=constant(0.0)` for `pad`. Collectives write their group as `group="NAME",
//! group_size=N`; reductions and `all_reduce` their function as `op=sum|max`.
//!
//! Strings are double-quoted with the escapes `\\`, `\"`, `\n`, `\r`, `\t` and `\u{HEX}` for
//! other control characters; any other Unicode character is written as is.
//!
//! Floats (the `F64` attributes and the elements of f32/f16/bf16 constants) are written as
//! the shortest decimal that reads back to the same value (`0.1`, `-0.0`, `1e-8`, `inf`,
//! `-inf`); f16 and bf16 elements are written as the decimal of their exact f32 value (a
//! decimal that the 16-bit type cannot represent exactly is rejected). NaN is
//! written as its raw bits in hexadecimal (`0x7fc00000` for f32, `0x7e00` for f16/bf16,
//! `0x7ff8000000000000` for f64 attributes) so every payload survives; the hex form is also
//! accepted for any other float. Constants list their elements flat in row-major order:
//! `%4 = constant {value=[1.0, -0.5, 0x7fc00001]} : f32[3]`; i32/i64 elements are decimal
//! integers, bool elements `true`/`false`.
//!
//! [`parse`] checks every line (ids in order, operands defined before use, arity and
//! attributes via shape inference, the stated type equal to the inferred one), reporting
//! [`IrError::Parse`] with the 1-based line number, then runs [`crate::verify`] on the result
//! and returns its error unchanged (e.g. for a graph without outputs).

use crate::{
    infer, BinaryOp, CmpOp, CommGroup, DType, Graph, HostTensor, IrError, Node, NodeId, Op,
    PadMode, ReduceOp, Shape, TensorData, TensorType, UnaryOp, F64,
};
use half::{bf16, f16};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Column at which module-path comments start (when the line is shorter).
const COMMENT_COLUMN: usize = 60;

/// Writes `graph` in the text format. Works on unverified graphs too (e.g. without outputs).
pub fn print(graph: &Graph) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "graph @{} {{", quote_name(&graph.name));
    for (i, node) in graph.nodes().iter().enumerate() {
        let mut line = format!("  %{i} = {}", node.op.name());
        match &node.op {
            Op::Input { name } | Op::Parameter { name } => {
                let _ = write!(line, " {}", quote(name));
            }
            _ => {
                if !node.inputs.is_empty() || !node.op.is_source() {
                    let ops: Vec<String> = node.inputs.iter().map(|i| i.to_string()).collect();
                    let _ = write!(line, "({})", ops.join(", "));
                }
                let mut attrs = attributes(&node.op);
                if let Some(group) = graph.group(NodeId(i)) {
                    attrs.push(("group", group.to_string()));
                }
                if !attrs.is_empty() {
                    let kv: Vec<String> = attrs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    let _ = write!(line, " {{{}}}", kv.join(", "));
                }
            }
        }
        let _ = write!(line, " : {}", node.ty);
        if !node.path.is_empty() {
            let pad = COMMENT_COLUMN.saturating_sub(line.chars().count()).max(1);
            line.extend(std::iter::repeat_n(' ', pad));
            line.push_str("# ");
            line.push_str(&path_comment(&node.path));
        }
        out.push_str(&line);
        out.push('\n');
    }
    let outs: Vec<String> = graph.outputs().iter().map(|o| o.to_string()).collect();
    if outs.is_empty() {
        out.push_str("  return\n");
    } else {
        let _ = writeln!(out, "  return {}", outs.join(", "));
    }
    out.push_str("}\n");
    out
}

/// Reads a graph written by [`print`] and verifies it.
pub fn parse(text: &str) -> Result<Graph, IrError> {
    let mut graph: Option<Graph> = None;
    let mut returned = false;
    let mut closed = false;
    let mut last_line = 0;
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        last_line = line_no;
        let err = |message: String| IrError::Parse {
            line: line_no,
            message,
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if closed {
            return Err(err(format!(
                "unexpected text after the closing `}}`: `{trimmed}`"
            )));
        }
        let (tokens, comment) = tokenize(raw).map_err(err)?;
        let mut p = Cursor { tokens, pos: 0 };
        let Some(g) = graph.as_mut() else {
            graph = Some(parse_header(&mut p).map_err(err)?);
            continue;
        };
        match p.peek() {
            Some(Tok::Punct('}')) => {
                p.next();
                p.end().map_err(err)?;
                if !returned {
                    return Err(err("missing `return` line before `}`".into()));
                }
                closed = true;
            }
            Some(Tok::Word(w)) if w == "return" => {
                if returned {
                    return Err(err("second `return` line".into()));
                }
                p.next();
                let outs = parse_return(&mut p, g.len()).map_err(err)?;
                g.set_outputs(outs);
                returned = true;
            }
            Some(Tok::Ref(_)) => {
                if returned {
                    return Err(err("node after the `return` line".into()));
                }
                let (node, group) = parse_node(&mut p, g, comment).map_err(err)?;
                let id = g.push(node);
                g.set_group(id, group);
            }
            _ => {
                return Err(err(format!(
                    "expected a node `%N = ...`, `return` or `}}`, got `{trimmed}`"
                )))
            }
        }
    }
    let eof = |message: &str| IrError::Parse {
        line: last_line.max(1),
        message: message.into(),
    };
    let graph = graph.ok_or_else(|| eof("missing `graph @NAME {` header"))?;
    if !closed {
        return Err(eof("unexpected end of text: missing closing `}`"));
    }
    crate::verify(&graph)?;
    Ok(graph)
}

// ---- printing helpers -------------------------------------------------------------------

fn is_bare_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn quote_name(s: &str) -> String {
    if is_bare_name(s) {
        s.to_string()
    } else {
        quote(s)
    }
}

fn path_comment(path: &str) -> String {
    let bare = path.trim() == path && !path.starts_with('"') && !path.chars().any(char::is_control);
    if bare {
        path.to_string()
    } else {
        quote(path)
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn fmt_f64(x: f64) -> String {
    if x.is_nan() {
        format!("0x{:016x}", x.to_bits())
    } else {
        format!("{x:?}")
    }
}

fn fmt_f32(x: f32) -> String {
    if x.is_nan() {
        format!("0x{:08x}", x.to_bits())
    } else {
        format!("{x:?}")
    }
}

fn fmt_half(bits: u16, value: f32) -> String {
    if value.is_nan() {
        format!("0x{bits:04x}")
    } else {
        format!("{value:?}")
    }
}

fn list<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    let parts: Vec<String> = items.iter().map(f).collect();
    format!("[{}]", parts.join(", "))
}

fn usizes(v: &[usize]) -> String {
    list(v, |x| x.to_string())
}

fn reduce_name(op: ReduceOp) -> &'static str {
    match op {
        ReduceOp::Sum => "sum",
        ReduceOp::Max => "max",
    }
}

fn constant_elements(value: &HostTensor) -> String {
    match value.data() {
        TensorData::F32(v) => list(v, |&x| fmt_f32(x)),
        TensorData::F16(v) => list(v, |x| fmt_half(x.to_bits(), x.to_f32())),
        TensorData::BF16(v) => list(v, |x| fmt_half(x.to_bits(), x.to_f32())),
        TensorData::I32(v) => list(v, |x| x.to_string()),
        TensorData::I64(v) => list(v, |x| x.to_string()),
        TensorData::Bool(v) => list(v, |x| x.to_string()),
    }
}

/// The attributes of `op` in print order (inputs and parameters print their name apart).
fn attributes(op: &Op) -> Vec<(&'static str, String)> {
    let group = |g: &CommGroup| {
        [
            ("group", quote(&g.name)),
            ("group_size", g.size.to_string()),
        ]
    };
    let mut a = Vec::new();
    match op {
        Op::Input { .. } | Op::Parameter { .. } => {}
        Op::Constant { value } => a.push(("value", constant_elements(value))),
        Op::Iota { shape, axis, dtype } => {
            a.push(("shape", usizes(shape.dims())));
            a.push(("axis", axis.to_string()));
            a.push(("dtype", dtype.to_string()));
        }
        Op::RandomNormal {
            shape,
            dtype,
            seed,
            offset,
        } => {
            a.push(("shape", usizes(shape.dims())));
            a.push(("dtype", dtype.to_string()));
            a.push(("seed", seed.to_string()));
            a.push(("offset", offset.to_string()));
        }
        Op::Unary(_) | Op::Binary(_) | Op::Compare(_) | Op::Select | Op::MatMul | Op::Silu => {}
        Op::Cast { to } => a.push(("to", to.to_string())),
        Op::Reduce {
            axes, keep_dims, ..
        } => {
            a.push(("axes", usizes(axes)));
            a.push(("keep_dims", keep_dims.to_string()));
        }
        Op::Reshape { shape } | Op::Broadcast { shape } => a.push(("shape", usizes(shape.dims()))),
        Op::Permute { perm } => a.push(("perm", usizes(perm))),
        Op::Slice { start, end, step } => {
            a.push(("start", usizes(start)));
            a.push(("end", usizes(end)));
            a.push(("step", usizes(step)));
        }
        Op::Concat { axis } | Op::Gather { axis } | Op::Softmax { axis } => {
            a.push(("axis", axis.to_string()))
        }
        Op::Pad { low, high, mode } => {
            a.push(("low", usizes(low)));
            a.push(("high", usizes(high)));
            a.push((
                "mode",
                match mode {
                    PadMode::Constant(v) => format!("constant({})", fmt_f64(v.0)),
                    PadMode::Replicate => "replicate".into(),
                },
            ));
        }
        Op::Conv {
            stride,
            padding,
            dilation,
            groups,
        } => {
            a.push(("stride", usizes(stride)));
            a.push(("padding", list(padding, |(l, h)| format!("({l}, {h})"))));
            a.push(("dilation", usizes(dilation)));
            a.push(("groups", groups.to_string()));
        }
        Op::AllReduce { op, group: g } => {
            a.push(("op", reduce_name(*op).into()));
            a.extend(group(g));
        }
        Op::AllGather { axis, group: g } | Op::ReduceScatter { axis, group: g } => {
            a.push(("axis", axis.to_string()));
            a.extend(group(g));
        }
        Op::AllToAll {
            split_axis,
            concat_axis,
            group: g,
        } => {
            a.push(("split_axis", split_axis.to_string()));
            a.push(("concat_axis", concat_axis.to_string()));
            a.extend(group(g));
        }
        Op::BroadcastFrom { root, group: g } => {
            a.push(("root", root.to_string()));
            a.extend(group(g));
        }
        Op::Linear { has_bias } => a.push(("has_bias", has_bias.to_string())),
        Op::LayerNorm { eps, affine } | Op::RmsNorm { eps, affine } => {
            a.push(("eps", fmt_f64(eps.0)));
            a.push(("affine", affine.to_string()));
        }
        Op::GroupNorm {
            groups,
            eps,
            affine,
        } => {
            a.push(("groups", groups.to_string()));
            a.push(("eps", fmt_f64(eps.0)));
            a.push(("affine", affine.to_string()));
        }
        Op::Gelu { tanh } => a.push(("tanh", tanh.to_string())),
        Op::Attention {
            scale,
            causal,
            has_mask,
        } => {
            a.push(("scale", fmt_f64(scale.0)));
            a.push(("causal", causal.to_string()));
            a.push(("has_mask", has_mask.to_string()));
        }
        Op::Rope { interleaved } => a.push(("interleaved", interleaved.to_string())),
        Op::UpsampleNearest { scale } => a.push(("scale", usizes(scale))),
    }
    a
}

// ---- lexing -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// Identifiers, numbers, dtypes, `inf`, hex bits: `[A-Za-z0-9_.+-]+`.
    Word(String),
    /// A quoted string, unescaped.
    Str(String),
    /// `%N`.
    Ref(usize),
    /// One of `= ( ) { } [ ] , : @`.
    Punct(char),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("`{w}`"),
            Tok::Str(s) => format!("string {}", quote(s)),
            Tok::Ref(r) => format!("`%{r}`"),
            Tok::Punct(c) => format!("`{c}`"),
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '+' | '-')
}

/// Splits a line into tokens and the text of its trailing `#` comment (if any).
fn tokenize(line: &str) -> Result<(Vec<Tok>, Option<&str>), String> {
    let mut toks = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '#' => return Ok((toks, Some(&line[i + 1..]))),
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    let Some((_, c)) = chars.next() else {
                        return Err("unterminated string".into());
                    };
                    match c {
                        '"' => break,
                        '\\' => s.push(unescape(&mut chars)?),
                        c => s.push(c),
                    }
                }
                toks.push(Tok::Str(s));
            }
            '%' => {
                chars.next();
                let mut digits = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    digits.push(d);
                    chars.next();
                }
                let n = digits
                    .parse()
                    .map_err(|_| format!("expected a node id after `%`, got `%{digits}`"))?;
                toks.push(Tok::Ref(n));
            }
            '=' | '(' | ')' | '{' | '}' | '[' | ']' | ',' | ':' | '@' => {
                chars.next();
                toks.push(Tok::Punct(c));
            }
            c if is_word_char(c) => {
                let mut w = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    if !is_word_char(d) {
                        break;
                    }
                    w.push(d);
                    chars.next();
                }
                toks.push(Tok::Word(w));
            }
            c => return Err(format!("unexpected character `{c}`")),
        }
    }
    Ok((toks, None))
}

fn unescape(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Result<char, String> {
    match chars.next().map(|(_, c)| c) {
        Some('"') => Ok('"'),
        Some('\\') => Ok('\\'),
        Some('n') => Ok('\n'),
        Some('r') => Ok('\r'),
        Some('t') => Ok('\t'),
        Some('u') => {
            if chars.next().map(|(_, c)| c) != Some('{') {
                return Err("expected `{` after `\\u` in string".into());
            }
            let mut hex = String::new();
            loop {
                match chars.next().map(|(_, c)| c) {
                    Some('}') => break,
                    Some(c) => hex.push(c),
                    None => return Err("unterminated `\\u{...}` escape".into()),
                }
            }
            u32::from_str_radix(&hex, 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| format!("invalid escape `\\u{{{hex}}}`"))
        }
        Some(c) => Err(format!("unknown escape `\\{c}` in string")),
        None => Err("unterminated string".into()),
    }
}

// ---- parsing ----------------------------------------------------------------------------

/// An attribute value before it is interpreted for a particular attribute.
#[derive(Debug, Clone)]
enum Val {
    Word(String),
    Str(String),
    List(Vec<Val>),
    Tuple(Vec<Val>),
    Call(String, Vec<Val>),
}

struct Cursor {
    tokens: Vec<Tok>,
    pos: usize,
}

impl Cursor {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn describe_next(&self) -> String {
        self.peek()
            .map_or_else(|| "end of line".to_string(), Tok::describe)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected `{c}`, got {}", self.describe_next()))
        }
    }

    fn word(&mut self, what: &str) -> Result<String, String> {
        match self.peek() {
            Some(Tok::Word(w)) => {
                let w = w.clone();
                self.pos += 1;
                Ok(w)
            }
            _ => Err(format!("expected {what}, got {}", self.describe_next())),
        }
    }

    fn end(&self) -> Result<(), String> {
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(format!("unexpected {} at end of line", t.describe())),
        }
    }

    /// A comma-separated sequence closed by `close` (the opener already consumed).
    fn seq<T>(
        &mut self,
        close: char,
        mut item: impl FnMut(&mut Self) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(item(self)?);
            if self.eat(close) {
                return Ok(items);
            }
            self.expect(',')?;
        }
    }

    fn value(&mut self) -> Result<Val, String> {
        match self.next() {
            Some(Tok::Word(w)) => {
                if self.eat('(') {
                    Ok(Val::Call(w, self.seq(')', Self::value)?))
                } else {
                    Ok(Val::Word(w))
                }
            }
            Some(Tok::Str(s)) => Ok(Val::Str(s)),
            Some(Tok::Punct('[')) => Ok(Val::List(self.seq(']', Self::value)?)),
            Some(Tok::Punct('(')) => Ok(Val::Tuple(self.seq(')', Self::value)?)),
            Some(t) => Err(format!("expected an attribute value, got {}", t.describe())),
            None => Err("expected an attribute value, got end of line".into()),
        }
    }

    fn ty(&mut self) -> Result<TensorType, String> {
        let d = self.word("a type like `f32[2,3]`")?;
        let dtype: DType = d.parse()?;
        self.expect('[')?;
        let dims = self.seq(']', |p| {
            let w = p.word("an extent")?;
            w.parse::<usize>()
                .map_err(|_| format!("bad extent `{w}` in type"))
        })?;
        Ok(TensorType::new(dtype, dims))
    }
}

fn parse_header(p: &mut Cursor) -> Result<Graph, String> {
    match p.next() {
        Some(Tok::Word(w)) if w == "graph" => {}
        _ => return Err("expected the header `graph @NAME {`".into()),
    }
    p.expect('@')?;
    let name = match p.next() {
        Some(Tok::Word(w)) => w,
        Some(Tok::Str(s)) => s,
        _ => return Err("expected the graph name after `@`".into()),
    };
    p.expect('{')?;
    p.end()?;
    Ok(Graph::new(name))
}

fn parse_return(p: &mut Cursor, n: usize) -> Result<Vec<NodeId>, String> {
    let mut outs = Vec::new();
    if p.peek().is_none() {
        return Ok(outs);
    }
    loop {
        match p.next() {
            Some(Tok::Ref(r)) if r < n => outs.push(NodeId(r)),
            Some(Tok::Ref(r)) => return Err(format!("returned node %{r} is not defined")),
            Some(t) => return Err(format!("expected `%N` in return, got {}", t.describe())),
            None => return Err("expected `%N` after `,` in return".into()),
        }
        if p.peek().is_none() {
            return Ok(outs);
        }
        p.expect(',')?;
    }
}

fn parse_path(comment: Option<&str>) -> Result<String, String> {
    let Some(c) = comment else {
        return Ok(String::new());
    };
    let c = c.trim();
    if !c.starts_with('"') {
        return Ok(c.to_string());
    }
    match tokenize(c)? {
        (toks, None) => match toks.as_slice() {
            [Tok::Str(s)] => Ok(s.clone()),
            _ => Err(format!("bad quoted module path `{c}`")),
        },
        _ => Err(format!("bad quoted module path `{c}`")),
    }
}

fn parse_node(
    p: &mut Cursor,
    g: &Graph,
    comment: Option<&str>,
) -> Result<(Node, Option<u32>), String> {
    let id = match p.next() {
        Some(Tok::Ref(r)) => r,
        _ => return Err("expected a node `%N = ...`".into()),
    };
    if id != g.len() {
        return Err(format!(
            "node ids must count up from %0: expected %{}, got %{id}",
            g.len()
        ));
    }
    p.expect('=')?;
    let name = p.word("an op name")?;
    let mut inputs = Vec::new();
    let mut attrs = BTreeMap::new();
    let mut source_name = None;
    if name == "input" || name == "parameter" {
        match p.next() {
            Some(Tok::Str(s)) => source_name = Some(s),
            t => {
                return Err(format!(
                    "expected the quoted {name} name, got {}",
                    t.map_or_else(|| "end of line".into(), |t| t.describe())
                ))
            }
        }
    } else {
        if p.eat('(') {
            inputs = p.seq(')', |p| match p.next() {
                Some(Tok::Ref(r)) if r < id => Ok(NodeId(r)),
                Some(Tok::Ref(r)) => Err(format!(
                    "operand %{r} of %{id} is not defined before its use"
                )),
                t => Err(format!(
                    "expected an operand `%N`, got {}",
                    t.map_or_else(|| "end of line".into(), |t| t.describe())
                )),
            })?;
        }
        if p.eat('{') {
            for (k, v) in p.seq('}', |p| {
                let k = p.word("an attribute name")?;
                p.expect('=')?;
                Ok((k, p.value()?))
            })? {
                if attrs.insert(k.clone(), v).is_some() {
                    return Err(format!("attribute `{k}` given twice"));
                }
            }
        }
    }
    p.expect(':')?;
    let ty = p.ty()?;
    p.end()?;
    let path = parse_path(comment)?;
    let mut a = Attrs {
        op: &name,
        map: attrs,
    };
    let op = build_op(&name, source_name, &mut a, &ty)?;
    let group = match a.map.contains_key("group") {
        true => Some(u32::try_from(a.usize("group")?).map_err(|e| format!("group: {e}"))?),
        false => None,
    };
    a.finish()?;
    if !matches!(op, Op::Input { .. } | Op::Parameter { .. }) {
        let tys: Vec<&TensorType> = inputs.iter().map(|&i| g.ty(i)).collect();
        let inferred = infer::infer(&op, &tys).map_err(|m| format!("{name}: {m}"))?;
        if inferred != ty {
            return Err(format!(
                "{name}: stated type {ty} but the operands and attributes give {inferred}"
            ));
        }
    }
    Ok((
        Node {
            op,
            inputs,
            ty,
            path,
        },
        group,
    ))
}

/// The attributes of one node, consumed one by one while the op is built.
struct Attrs<'a> {
    op: &'a str,
    map: BTreeMap<String, Val>,
}

impl Attrs<'_> {
    fn take(&mut self, key: &str) -> Result<Val, String> {
        self.map
            .remove(key)
            .ok_or_else(|| format!("{}: missing attribute `{key}`", self.op))
    }

    fn finish(self) -> Result<(), String> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(k) => Err(format!("{}: unknown attribute `{k}`", self.op)),
        }
    }

    fn bad(&self, key: &str, want: &str, v: &Val) -> String {
        format!("{}: attribute `{key}` must be {want}, got {v:?}", self.op)
    }

    fn word(&mut self, key: &str, want: &str) -> Result<String, String> {
        match self.take(key)? {
            Val::Word(w) => Ok(w),
            v => Err(self.bad(key, want, &v)),
        }
    }

    fn usize(&mut self, key: &str) -> Result<usize, String> {
        let w = self.word(key, "an integer")?;
        w.parse().map_err(|_| {
            format!(
                "{}: attribute `{key}` must be an integer, got `{w}`",
                self.op
            )
        })
    }

    fn u64(&mut self, key: &str) -> Result<u64, String> {
        let w = self.word(key, "an integer")?;
        w.parse().map_err(|_| {
            format!(
                "{}: attribute `{key}` must be an integer, got `{w}`",
                self.op
            )
        })
    }

    fn bool(&mut self, key: &str) -> Result<bool, String> {
        match self.word(key, "true or false")?.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            w => Err(format!(
                "{}: attribute `{key}` must be true or false, got `{w}`",
                self.op
            )),
        }
    }

    fn f64(&mut self, key: &str) -> Result<F64, String> {
        let w = self.word(key, "a number")?;
        parse_f64(&w)
            .map(F64)
            .map_err(|m| format!("{}: attribute `{key}`: {m}", self.op))
    }

    fn dtype(&mut self, key: &str) -> Result<DType, String> {
        let w = self.word(key, "a dtype")?;
        w.parse()
            .map_err(|m| format!("{}: attribute `{key}`: {m}", self.op))
    }

    fn usizes(&mut self, key: &str) -> Result<Vec<usize>, String> {
        match self.take(key)? {
            Val::List(items) => items
                .iter()
                .map(|v| match v {
                    Val::Word(w) => w.parse().ok(),
                    _ => None,
                })
                .collect::<Option<Vec<usize>>>()
                .ok_or_else(|| {
                    format!("{}: attribute `{key}` must be a list of integers", self.op)
                }),
            v => Err(self.bad(key, "a list of integers", &v)),
        }
    }

    fn shape(&mut self, key: &str) -> Result<Shape, String> {
        self.usizes(key).map(Shape)
    }

    fn pairs(&mut self, key: &str) -> Result<Vec<(usize, usize)>, String> {
        let v = self.take(key)?;
        let pair = |v: &Val| match v {
            Val::Tuple(t) => match t.as_slice() {
                [Val::Word(a), Val::Word(b)] => Some((a.parse().ok()?, b.parse().ok()?)),
                _ => None,
            },
            _ => None,
        };
        match &v {
            Val::List(items) => items.iter().map(pair).collect::<Option<Vec<_>>>(),
            _ => None,
        }
        .ok_or_else(|| self.bad(key, "a list of pairs `(low, high)`", &v))
    }

    fn reduce(&mut self, key: &str) -> Result<ReduceOp, String> {
        match self.word(key, "sum or max")?.as_str() {
            "sum" => Ok(ReduceOp::Sum),
            "max" => Ok(ReduceOp::Max),
            w => Err(format!(
                "{}: attribute `{key}` must be sum or max, got `{w}`",
                self.op
            )),
        }
    }

    fn group(&mut self) -> Result<CommGroup, String> {
        let name = match self.take("group")? {
            Val::Str(s) => s,
            v => return Err(self.bad("group", "a quoted group name", &v)),
        };
        let size = self.usize("group_size")?;
        Ok(CommGroup { name, size })
    }

    fn pad_mode(&mut self) -> Result<PadMode, String> {
        let v = self.take("mode")?;
        match &v {
            Val::Word(w) if w == "replicate" => Ok(PadMode::Replicate),
            Val::Call(f, args) if f == "constant" => match args.as_slice() {
                [Val::Word(w)] => parse_f64(w)
                    .map(|x| PadMode::Constant(F64(x)))
                    .map_err(|m| format!("{}: attribute `mode`: {m}", self.op)),
                _ => Err(self.bad("mode", "replicate or constant(VALUE)", &v)),
            },
            _ => Err(self.bad("mode", "replicate or constant(VALUE)", &v)),
        }
    }
}

fn parse_f64(w: &str) -> Result<f64, String> {
    if let Some(hex) = w.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16)
            .map(f64::from_bits)
            .map_err(|_| format!("bad float bits `{w}`"));
    }
    w.parse().map_err(|_| format!("bad number `{w}`"))
}

fn parse_f32(w: &str) -> Option<f32> {
    match w.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok().map(f32::from_bits),
        None => w.parse().ok(),
    }
}

/// Parses a 16-bit float element: hex bits, or a decimal that must be exactly representable.
fn parse_half(w: &str, from_f32: fn(f32) -> u16, to_f32: fn(u16) -> f32) -> Option<u16> {
    match w.strip_prefix("0x") {
        Some(hex) => u16::from_str_radix(hex, 16).ok(),
        None => {
            let x: f32 = w.parse().ok()?;
            let bits = from_f32(x);
            (to_f32(bits).to_bits() == x.to_bits()).then_some(bits)
        }
    }
}

fn constant_value(v: Val, ty: &TensorType) -> Result<HostTensor, String> {
    let Val::List(items) = v else {
        return Err("constant: attribute `value` must be a list of elements".into());
    };
    let words = items
        .into_iter()
        .map(|v| match v {
            Val::Word(w) => Ok(w),
            v => Err(format!("constant: bad element {v:?}")),
        })
        .collect::<Result<Vec<String>, String>>()?;
    fn elems<T>(
        words: &[String],
        dt: DType,
        f: impl Fn(&str) -> Option<T>,
    ) -> Result<Vec<T>, String> {
        words
            .iter()
            .map(|w| f(w).ok_or_else(|| format!("constant: bad {dt} element `{w}`")))
            .collect()
    }
    let dt = ty.dtype;
    let data = match dt {
        DType::F32 => TensorData::F32(elems(&words, dt, parse_f32)?),
        DType::F16 => TensorData::F16(elems(&words, dt, |w| {
            parse_half(
                w,
                |x| f16::from_f32(x).to_bits(),
                |b| f16::from_bits(b).to_f32(),
            )
            .map(f16::from_bits)
        })?),
        DType::BF16 => TensorData::BF16(elems(&words, dt, |w| {
            parse_half(
                w,
                |x| bf16::from_f32(x).to_bits(),
                |b| bf16::from_bits(b).to_f32(),
            )
            .map(bf16::from_bits)
        })?),
        DType::I32 => TensorData::I32(elems(&words, dt, |w| w.parse().ok())?),
        DType::I64 => TensorData::I64(elems(&words, dt, |w| w.parse().ok())?),
        DType::Bool => TensorData::Bool(elems(&words, dt, |w| match w {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })?),
    };
    HostTensor::new(ty.shape.clone(), data).map_err(|e| format!("constant: {e}"))
}

fn build_op(
    name: &str,
    source_name: Option<String>,
    a: &mut Attrs<'_>,
    ty: &TensorType,
) -> Result<Op, String> {
    Ok(match name {
        "input" => Op::Input {
            name: source_name.unwrap_or_default(),
        },
        "parameter" => Op::Parameter {
            name: source_name.unwrap_or_default(),
        },
        "constant" => Op::Constant {
            value: constant_value(a.take("value")?, ty)?,
        },
        "iota" => Op::Iota {
            shape: a.shape("shape")?,
            axis: a.usize("axis")?,
            dtype: a.dtype("dtype")?,
        },
        "random_normal" => Op::RandomNormal {
            shape: a.shape("shape")?,
            dtype: a.dtype("dtype")?,
            seed: a.u64("seed")?,
            offset: a.u64("offset")?,
        },
        "neg" => Op::Unary(UnaryOp::Neg),
        "abs" => Op::Unary(UnaryOp::Abs),
        "exp" => Op::Unary(UnaryOp::Exp),
        "log" => Op::Unary(UnaryOp::Log),
        "sqrt" => Op::Unary(UnaryOp::Sqrt),
        "rsqrt" => Op::Unary(UnaryOp::Rsqrt),
        "recip" => Op::Unary(UnaryOp::Recip),
        "tanh" => Op::Unary(UnaryOp::Tanh),
        "erf" => Op::Unary(UnaryOp::Erf),
        "sin" => Op::Unary(UnaryOp::Sin),
        "cos" => Op::Unary(UnaryOp::Cos),
        "floor" => Op::Unary(UnaryOp::Floor),
        "not" => Op::Unary(UnaryOp::Not),
        "add" => Op::Binary(BinaryOp::Add),
        "sub" => Op::Binary(BinaryOp::Sub),
        "mul" => Op::Binary(BinaryOp::Mul),
        "div" => Op::Binary(BinaryOp::Div),
        "max" => Op::Binary(BinaryOp::Max),
        "min" => Op::Binary(BinaryOp::Min),
        "pow" => Op::Binary(BinaryOp::Pow),
        "and" => Op::Binary(BinaryOp::And),
        "or" => Op::Binary(BinaryOp::Or),
        "eq" => Op::Compare(CmpOp::Eq),
        "ne" => Op::Compare(CmpOp::Ne),
        "lt" => Op::Compare(CmpOp::Lt),
        "le" => Op::Compare(CmpOp::Le),
        "gt" => Op::Compare(CmpOp::Gt),
        "ge" => Op::Compare(CmpOp::Ge),
        "select" => Op::Select,
        "cast" => Op::Cast { to: a.dtype("to")? },
        "reduce_sum" | "reduce_max" => Op::Reduce {
            op: if name == "reduce_sum" {
                ReduceOp::Sum
            } else {
                ReduceOp::Max
            },
            axes: a.usizes("axes")?,
            keep_dims: a.bool("keep_dims")?,
        },
        "reshape" => Op::Reshape {
            shape: a.shape("shape")?,
        },
        "permute" => Op::Permute {
            perm: a.usizes("perm")?,
        },
        "broadcast" => Op::Broadcast {
            shape: a.shape("shape")?,
        },
        "slice" => Op::Slice {
            start: a.usizes("start")?,
            end: a.usizes("end")?,
            step: a.usizes("step")?,
        },
        "concat" => Op::Concat {
            axis: a.usize("axis")?,
        },
        "pad" => Op::Pad {
            low: a.usizes("low")?,
            high: a.usizes("high")?,
            mode: a.pad_mode()?,
        },
        "gather" => Op::Gather {
            axis: a.usize("axis")?,
        },
        "matmul" => Op::MatMul,
        "conv" => Op::Conv {
            stride: a.usizes("stride")?,
            padding: a.pairs("padding")?,
            dilation: a.usizes("dilation")?,
            groups: a.usize("groups")?,
        },
        "all_reduce" => Op::AllReduce {
            op: a.reduce("op")?,
            group: a.group()?,
        },
        "all_gather" => Op::AllGather {
            axis: a.usize("axis")?,
            group: a.group()?,
        },
        "reduce_scatter" => Op::ReduceScatter {
            axis: a.usize("axis")?,
            group: a.group()?,
        },
        "all_to_all" => Op::AllToAll {
            split_axis: a.usize("split_axis")?,
            concat_axis: a.usize("concat_axis")?,
            group: a.group()?,
        },
        "broadcast_from" => Op::BroadcastFrom {
            root: a.usize("root")?,
            group: a.group()?,
        },
        "linear" => Op::Linear {
            has_bias: a.bool("has_bias")?,
        },
        "softmax" => Op::Softmax {
            axis: a.usize("axis")?,
        },
        "layer_norm" => Op::LayerNorm {
            eps: a.f64("eps")?,
            affine: a.bool("affine")?,
        },
        "rms_norm" => Op::RmsNorm {
            eps: a.f64("eps")?,
            affine: a.bool("affine")?,
        },
        "group_norm" => Op::GroupNorm {
            groups: a.usize("groups")?,
            eps: a.f64("eps")?,
            affine: a.bool("affine")?,
        },
        "gelu" => Op::Gelu {
            tanh: a.bool("tanh")?,
        },
        "silu" => Op::Silu,
        "attention" => Op::Attention {
            scale: a.f64("scale")?,
            causal: a.bool("causal")?,
            has_mask: a.bool("has_mask")?,
        },
        "rope" => Op::Rope {
            interleaved: a.bool("interleaved")?,
        },
        "upsample_nearest" => Op::UpsampleNearest {
            scale: a.usizes("scale")?,
        },
        other => return Err(format!("unknown op `{other}`")),
    })
}
