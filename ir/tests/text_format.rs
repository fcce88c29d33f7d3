//! The text dump format: round trips of random graphs, tricky values and strings, and parse
//! errors with line numbers.

use half::{bf16, f16};
use hyv_ir::testing::{arb_graph, arb_graph_all_ops, random_graph, random_graph_all_ops};
use hyv_ir::text::{parse, print};
use hyv_ir::{
    DType, Graph, HostTensor, IrError, Node, NodeId, Op, PadMode, TensorData, TensorType, F64,
};
use proptest::prelude::*;

fn roundtrip(g: &Graph) {
    let text = print(g);
    let back = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(&back, g, "\n{text}");
    assert_eq!(print(&back), text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn tame_graphs_round_trip(g in arb_graph()) {
        roundtrip(&g);
    }

    #[test]
    fn all_op_graphs_round_trip(g in arb_graph_all_ops()) {
        roundtrip(&g);
    }
}

#[test]
fn generators_are_valid_and_deterministic() {
    for seed in 0..64 {
        let g = random_graph(seed, 30);
        hyv_ir::verify(&g).unwrap();
        assert!(g.nodes().iter().filter(|n| !n.op.is_source()).count() >= 30);
        assert_eq!(g, random_graph(seed, 30));
        let a = random_graph_all_ops(seed);
        hyv_ir::verify(&a).unwrap();
        assert_eq!(a, random_graph_all_ops(seed));
    }
}

#[test]
fn all_op_graphs_cover_every_op() {
    let g = random_graph_all_ops(7);
    let names: std::collections::BTreeSet<&str> = g.nodes().iter().map(|n| n.op.name()).collect();
    for want in [
        "input",
        "parameter",
        "constant",
        "iota",
        "random_normal",
        "neg",
        "abs",
        "exp",
        "log",
        "sqrt",
        "rsqrt",
        "recip",
        "tanh",
        "erf",
        "sin",
        "cos",
        "floor",
        "not",
        "add",
        "sub",
        "mul",
        "div",
        "max",
        "min",
        "pow",
        "and",
        "or",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "select",
        "cast",
        "reduce_sum",
        "reduce_max",
        "reshape",
        "permute",
        "broadcast",
        "slice",
        "concat",
        "pad",
        "gather",
        "matmul",
        "conv",
        "all_reduce",
        "all_gather",
        "reduce_scatter",
        "all_to_all",
        "broadcast_from",
        "linear",
        "softmax",
        "layer_norm",
        "rms_norm",
        "group_norm",
        "gelu",
        "silu",
        "attention",
        "rope",
        "upsample_nearest",
    ] {
        assert!(names.contains(want), "missing {want}");
    }
}

fn constant_graph(value: HostTensor, path: &str) -> Graph {
    let mut g = Graph::new("c");
    let c = g.add(Op::Constant { value }, &[], path).unwrap();
    g.set_outputs(vec![c]);
    g
}

#[test]
fn special_float_constants_round_trip_bit_exactly() {
    let f32s: Vec<f32> = [
        0x7fc0_0000u32,
        0x7fc0_0001,
        0xffff_ffff,
        0x7f80_0001,
        0x8000_0000,
        0,
        0x7f80_0000,
        0xff80_0000,
        1,
        0x807f_ffff,
        0x7f7f_ffff,
    ]
    .into_iter()
    .map(f32::from_bits)
    .chain([0.1, -1.5e-30, 3.4e38, 1.0 / 3.0])
    .collect();
    let n = f32s.len();
    let halves: Vec<u16> = vec![
        0x7e00, 0x7c01, 0xfe01, 0x8000, 0, 0x7c00, 0xfc00, 1, 0x3555, 0x7bff,
    ];
    let m = halves.len();
    for value in [
        HostTensor::new([n], TensorData::F32(f32s)).unwrap(),
        HostTensor::new(
            [m],
            TensorData::F16(halves.iter().map(|&b| f16::from_bits(b)).collect()),
        )
        .unwrap(),
        HostTensor::new(
            [2, m / 2],
            TensorData::BF16(halves.iter().map(|&b| bf16::from_bits(b)).collect()),
        )
        .unwrap(),
        HostTensor::new([3], TensorData::I32(vec![i32::MIN, -1, i32::MAX])).unwrap(),
        HostTensor::new([3], TensorData::I64(vec![i64::MIN, 0, i64::MAX])).unwrap(),
        HostTensor::new([2], TensorData::Bool(vec![true, false])).unwrap(),
        HostTensor::new(Vec::<usize>::new(), TensorData::F32(vec![-0.0])).unwrap(),
    ] {
        roundtrip(&constant_graph(value, ""));
    }
}

#[test]
fn f64_attributes_round_trip_bit_exactly() {
    for bits in [
        0x7ff8_0000_0000_0000u64,
        0x7ff0_0000_0000_0001,
        0xfff8_0000_dead_beef,
        0x8000_0000_0000_0000,
        0x7ff0_0000_0000_0000,
        0xfff0_0000_0000_0000,
        1,
        0x3ee4_f8b5_88e3_68f1,
    ] {
        let eps = F64(f64::from_bits(bits));
        let mut g = Graph::new("g");
        let x = g.push(Node {
            op: Op::Input { name: "x".into() },
            inputs: vec![],
            ty: TensorType::new(DType::F32, [2, 3]),
            path: String::new(),
        });
        let n = g
            .add(Op::LayerNorm { eps, affine: false }, &[x], "")
            .unwrap();
        let p = g
            .add(
                Op::Pad {
                    low: vec![0, 1],
                    high: vec![1, 0],
                    mode: PadMode::Constant(eps),
                },
                &[n],
                "",
            )
            .unwrap();
        g.set_outputs(vec![p]);
        roundtrip(&g);
    }
}

#[test]
fn odd_strings_round_trip() {
    let odd = [
        "",
        " ",
        "a b",
        "\"",
        "\"quoted\"",
        "#",
        "x # y",
        "tab\t",
        "nl\nx",
        "cr\r",
        "\\",
        "\\u{41}",
        "ünï ✓ 漢字",
        "\u{1}\u{7f}",
        " trailing ",
        "}",
        "%0 = add",
    ];
    let mut g = Graph::new("odd name \"x\"");
    let mut last = NodeId(0);
    for (i, s) in odd.iter().enumerate() {
        last = g.push(Node {
            op: if i % 2 == 0 {
                Op::Input {
                    name: s.to_string(),
                }
            } else {
                Op::Parameter {
                    name: s.to_string(),
                }
            },
            inputs: vec![],
            ty: TensorType::new(DType::F32, [1]),
            path: s.to_string(),
        });
    }
    g.set_outputs(vec![last, NodeId(0)]);
    roundtrip(&g);
    let mut named = Graph::new("");
    let x = named.push(Node {
        op: Op::Input { name: "x".into() },
        inputs: vec![],
        ty: TensorType::new(DType::F32, []),
        path: "blocks.0 attn".into(),
    });
    named.set_outputs(vec![x]);
    roundtrip(&named);
}

#[test]
fn example_from_the_docs_parses() {
    let text = r#"
# a comment line
graph @mlp {
  %0 = input "x" : f32[2,8]
  %1 = parameter "fc1.weight" : f32[16,8]                 # fc1
  %2 = linear(%0, %1) {has_bias=false} : f32[2,16]       # fc1
  %3 = reduce_sum(%2) {keep_dims=false, axes=[1]} : f32[2]  # head

  return %3
}
"#;
    let g = parse(text).unwrap();
    assert_eq!(g.name, "mlp");
    assert_eq!(g.len(), 4);
    assert_eq!(g.node(NodeId(2)).path, "fc1");
    assert_eq!(g.node(NodeId(3)).path, "head");
    assert_eq!(g.outputs(), &[NodeId(3)]);
    assert_eq!(parse(&print(&g)).unwrap(), g);
}

fn parse_err(text: &str) -> (usize, String) {
    match parse(text) {
        Err(IrError::Parse { line, message }) => (line, message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

fn lines(body: &[&str]) -> String {
    let mut s = String::from("graph @g {\n");
    for l in body {
        s.push_str(l);
        s.push('\n');
    }
    s.push_str("}\n");
    s
}

#[test]
fn parse_errors_name_the_line() {
    let x = r#"  %0 = input "x" : f32[2,3]"#;
    let cases: Vec<(Vec<&str>, usize, &str)> = vec![
        (
            vec![x, "  %1 = frobnicate(%0) : f32[2,3]", "  return %1"],
            3,
            "unknown op `frobnicate`",
        ),
        (
            vec![x, "  %1 = tanh(%0) : f33[2,3]", "  return %1"],
            3,
            "unknown dtype `f33`",
        ),
        (
            vec![x, "  %1 = tanh(%2) : f32[2,3]", "  return %1"],
            3,
            "not defined before its use",
        ),
        (
            vec![x, "  %1 = tanh(%1) : f32[2,3]", "  return %1"],
            3,
            "not defined before its use",
        ),
        (
            vec![x, "  %2 = tanh(%0) : f32[2,3]", "  return %2"],
            3,
            "expected %1, got %2",
        ),
        (
            vec![x, "  %1 = add(%0) : f32[2,3]", "  return %1"],
            3,
            "expects 2 operands, got 1",
        ),
        (
            vec![x, "  %1 = tanh(%0) : f32[3,2]", "  return %1"],
            3,
            "stated type f32[3,2]",
        ),
        (
            vec![x, "  %1 = softmax(%0) : f32[2,3]", "  return %1"],
            3,
            "missing attribute `axis`",
        ),
        (
            vec![
                x,
                "  %1 = softmax(%0) {axis=1, bogus=2} : f32[2,3]",
                "  return %1",
            ],
            3,
            "unknown attribute `bogus`",
        ),
        (
            vec![
                x,
                "  %1 = softmax(%0) {axis=1, axis=1} : f32[2,3]",
                "  return %1",
            ],
            3,
            "given twice",
        ),
        (
            vec![x, "  %1 = softmax(%0) {axis=x} : f32[2,3]", "  return %1"],
            3,
            "must be an integer",
        ),
        (
            vec![x, "  %1 = softmax(%0) {axis=5} : f32[2,3]", "  return %1"],
            3,
            "axis 5 out of range",
        ),
        (
            vec![x, "  %1 = gelu(%0) {tanh=maybe} : f32[2,3]", "  return %1"],
            3,
            "true or false",
        ),
        (
            vec![
                x,
                "  %1 = constant {value=[1.0, 2.0]} : f32[3]",
                "  return %1",
            ],
            3,
            "needs 3 elements",
        ),
        (
            vec![
                x,
                "  %1 = constant {value=[1.0, zz, 2.0]} : f32[3]",
                "  return %1",
            ],
            3,
            "bad f32 element `zz`",
        ),
        (
            vec![x, "  %1 = constant {value=[0.1]} : f16[1]", "  return %1"],
            3,
            "bad f16 element `0.1`",
        ),
        (
            vec![x, "  %1 = tanh(%0) : f32[2,3]", "  return %7"],
            4,
            "returned node %7",
        ),
        (vec![x, "  %1 = tanh(%0) : f32[2,3]"], 4, "missing `return`"),
        (
            vec![x, r#"  %1 = input "x : f32[2]"#, "  return %1"],
            3,
            "unterminated string",
        ),
        (
            vec![x, r#"  %1 = input "a\q" : f32[2]"#, "  return %1"],
            3,
            "unknown escape",
        ),
        (
            vec![x, "  %1 = tanh(%0) : f32[2,3] extra", "  return %1"],
            3,
            "unexpected `extra`",
        ),
        (
            vec![x, "  %1 = tanh %0 : f32[2,3]", "  return %1"],
            3,
            "expected `:`",
        ),
        (
            vec![
                x,
                "  %1 = pad(%0) {low=[0,0], high=[0,0], mode=wrap} : f32[2,3]",
                "  return %1",
            ],
            3,
            "replicate or constant",
        ),
        (
            vec![
                x,
                "  %1 = all_reduce(%0) {op=sum, group=sp, group_size=2} : f32[2,3]",
                "  return %1",
            ],
            3,
            "quoted group name",
        ),
        (
            vec![x, "  return %0", "  %1 = tanh(%0) : f32[2,3]"],
            4,
            "after the `return`",
        ),
        (vec![x, "  hello", "  return %0"], 3, "expected a node"),
        (
            vec![
                x,
                "  %1 = tanh(%0) : f32[2,3]  # \"unterminated",
                "  return %1",
            ],
            3,
            "unterminated string",
        ),
    ];
    for (body, line, needle) in cases {
        let text = lines(&body);
        let (l, m) = parse_err(&text);
        assert_eq!(l, line, "{m}\n{text}");
        assert!(m.contains(needle), "`{m}` lacks `{needle}`\n{text}");
    }
    let (l, m) = parse_err("");
    assert_eq!(l, 1);
    assert!(m.contains("header"), "{m}");
    let (l, m) = parse_err("graph @g {\n  %0 = input \"x\" : f32[1]\n  return %0\n");
    assert_eq!(l, 3);
    assert!(m.contains("missing closing"), "{m}");
    let (l, m) = parse_err("graph @g {\n  %0 = input \"x\" : f32[1]\n  return %0\n}\n%1");
    assert_eq!(l, 5);
    assert!(m.contains("after the closing"), "{m}");
    let (l, _) = parse_err("grph @g {\n}");
    assert_eq!(l, 1);
}

#[test]
fn parse_runs_the_verifier() {
    let no_outputs = "graph @g {\n  %0 = input \"x\" : f32[1]\n  return\n}\n";
    assert!(matches!(parse(no_outputs), Err(IrError::Verify { .. })));
    let dup =
        "graph @g {\n  %0 = input \"x\" : f32[1]\n  %1 = input \"x\" : f32[1]\n  return %1\n}\n";
    match parse(dup) {
        Err(IrError::Verify { node, message, .. }) => {
            assert_eq!(node, 1);
            assert!(message.contains("`x`"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // Printing works on unverified graphs.
    let mut g = Graph::new("g");
    g.push(Node {
        op: Op::Input { name: "x".into() },
        inputs: vec![],
        ty: TensorType::new(DType::F32, [1]),
        path: String::new(),
    });
    assert!(print(&g).contains("  return\n"));
}
