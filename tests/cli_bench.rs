//! End-to-end tests of `hyv bench`: the table, the JSON report, `--block`, and the errors
//! for bad names. Times are never asserted (DESIGN.md: benchmarks, not timed tests).

#[path = "support/cli.rs"]
mod cli;
use cli::{hyv, text};

/// The table's data lines: those after the header line that starts with `backend`.
fn table_rows(stdout: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("backend "))
        .skip(1)
        .take_while(|l| !l.starts_with("wrote "))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

const COLUMNS: [&str; 12] = [
    "backend", "mode", "dtype", "threads", "ops", "launches", "median", "min", "max", "GFLOP/s",
    "peak", "ratio",
];

#[test]
fn tiny_on_two_backends_in_both_modes_prints_four_rows_and_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let o = hyv(&[
        "bench",
        "--model",
        "tiny",
        "--backend",
        "reference,cpu",
        "--mode",
        "eager,graph",
        "--iters",
        "2",
        "--warmup",
        "1",
        "--threads",
        "2",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let header = stdout
        .lines()
        .find(|l| l.starts_with("backend "))
        .unwrap_or_else(|| panic!("no table header\n{}", text(&o)));
    for column in COLUMNS {
        assert!(header.contains(column), "column {column} missing: {header}");
    }
    // The shapes both sides of a comparison must agree on are printed.
    assert!(
        stdout.contains("input hidden_states: f32[1,4,1,16,16]"),
        "{stdout}"
    );

    let rows = table_rows(&stdout);
    assert_eq!(rows.len(), 4, "{stdout}");
    let order: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("reference", "eager"),
            ("reference", "graph"),
            ("cpu", "eager"),
            ("cpu", "graph")
        ]
    );
    for r in &rows {
        assert_eq!(r.len(), COLUMNS.len(), "{r:?}");
        let ops: usize = r[4].parse().unwrap();
        let launches: usize = r[5].parse().unwrap();
        assert!(ops > 0 && launches > 0, "{r:?}");
        if r[1] == "eager" {
            // Eager mode launches every traced op.
            assert_eq!(launches, ops, "{r:?}");
        } else {
            // Graph mode runs the canonicalised graph: folding and CSE remove ops.
            assert!(launches < ops, "{r:?}");
        }
    }
    assert_eq!(rows[0][11], "1.00", "{stdout}");
    assert_eq!(rows[0][3], "1", "the reference backend is single-threaded");
    assert_eq!(rows[2][3], "2", "--threads 2 on the cpu backend");
    assert_ne!(
        rows[3][10], "-",
        "the cpu executable reports its planned peak"
    );

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["model"], "tiny");
    assert!(report["flops"].as_u64().unwrap() > 0);
    assert_eq!(report["inputs"][0]["name"], "hidden_states");
    assert_eq!(
        report["inputs"][0]["shape"],
        serde_json::json!([1, 4, 1, 16, 16])
    );
    let json_rows = report["rows"].as_array().unwrap();
    assert_eq!(json_rows.len(), 4);
    for row in json_rows {
        for field in [
            "backend",
            "mode",
            "dtype",
            "threads",
            "ops",
            "launches",
            "median_ms",
            "min_ms",
            "max_ms",
            "gflops",
            "peak_mib",
            "ratio",
            "times_ms",
        ] {
            assert!(row.get(field).is_some(), "field {field} missing: {row}");
        }
        assert_eq!(row["times_ms"].as_array().unwrap().len(), 2);
        let (min, median, max) = (
            row["min_ms"].as_f64().unwrap(),
            row["median_ms"].as_f64().unwrap(),
            row["max_ms"].as_f64().unwrap(),
        );
        assert!(min <= median && median <= max, "{row}");
    }
    assert_eq!(json_rows[0]["ratio"].as_f64().unwrap(), 1.0);
}

#[test]
fn one_double_and_one_single_block_run() {
    for (block, name) in [("double", "double-stream"), ("single", "single-stream")] {
        let o = hyv(&[
            "bench",
            "--model",
            "tiny",
            "--block",
            block,
            "--backend",
            "cpu",
            "--iters",
            "1",
            "--warmup",
            "0",
        ]);
        assert!(o.status.success(), "{}", text(&o));
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(stdout.contains(&format!("tiny {name} block")), "{stdout}");
        // The tiny preset's 16×16 latent, patch 1: 256 image tokens of width 2·10.
        assert!(
            stdout.contains("input hidden_states: f32[1,256,20]"),
            "{stdout}"
        );
        assert!(stdout.contains("input rope_cos: f32[256,10]"), "{stdout}");
        assert_eq!(table_rows(&stdout).len(), 2, "{stdout}");
    }
}

#[test]
fn an_example_model_runs() {
    let o = hyv(&[
        "bench",
        "--model",
        "mlp",
        "--backend",
        "cpu",
        "--mode",
        "graph",
        "--iters",
        "1",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        table_rows(&String::from_utf8_lossy(&o.stdout)).len(),
        1,
        "{}",
        text(&o)
    );
}

#[test]
fn bad_names_are_clear_errors_listing_the_valid_ones() {
    let o = hyv(&["bench", "--model", "huge", "--iters", "1"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown model `huge`"), "{err}");
    for name in ["hunyuan-video-13b", "tiny", "small", "mlp", "attention"] {
        assert!(err.contains(name), "{name} not listed: {err}");
    }

    let o = hyv(&["bench", "--model", "tiny", "--backend", "cpu,gpu"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown backend `gpu`"), "{err}");
    for name in ["reference", "reference-primitives", "cpu"] {
        assert!(err.contains(name), "{name} not listed: {err}");
    }

    let o = hyv(&["bench", "--model", "tiny", "--block", "triple"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("unknown block `triple`") && err.contains("double, single"),
        "{err}"
    );

    let o = hyv(&["bench", "--model", "mlp", "--block", "double"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--block"));
}

/// Fusion: the CPU runs the tiny DiT double-stream block in fewer launches than it has ops,
/// and fewer than the reference backend, which runs the same optimised graph node by node.
#[test]
fn fusion_makes_cpu_graph_launches_fewer_than_ops() {
    let o = hyv(&[
        "bench",
        "--model",
        "tiny",
        "--block",
        "double",
        "--backend",
        "reference,cpu",
        "--mode",
        "graph",
        "--iters",
        "1",
        "--warmup",
        "0",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let rows = table_rows(&stdout);
    let launches = |backend: &str| -> usize {
        let r = rows.iter().find(|r| r[0] == backend).expect("row present");
        r[5].parse().unwrap()
    };
    let ops: usize = rows[0][4].parse().unwrap();
    assert!(launches("cpu") < launches("reference"), "{stdout}");
    assert!(launches("cpu") < ops, "{stdout}");
}
