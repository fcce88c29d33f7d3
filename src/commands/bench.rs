//! `hyv bench`: time a model's forward, or one DiT block's, for every backend × mode asked
//! for, on random weights and inputs, after warm-up.
//!
//! What one timed iteration is, in both modes: the host inputs go in, the host outputs come
//! out (upload, run, download), as `Session::run` does. Graph mode compiles once before the
//! warm-up; eager mode binds the weights (generated once, before any timing) on every
//! forward, as hyv's eager mode does. FLOPs are the model FLOPs of the traced graph
//! (`hyv_ir::flops`: matmuls, linears, convolutions, attention), so GFLOP/s compares with
//! other implementations of the same model; `ops` counts the traced graph's ops (inputs and
//! parameters excluded) and `launches` the kernels one forward runs: every op executed in
//! eager mode, what the compiled executable reports in graph mode.

use crate::backends::{backend_with_threads, BACKEND_NAMES};
use crate::progress;
use anyhow::{bail, Context, Result};
use hyv_frontend::{
    randn_host, trace, Backend, HostTensor, Mode, Model, Runner, Session, TensorType, Weights,
};
use hyv_ir::{DType, Graph, Op};
use hyv_models::hunyuan_video::{
    input_types, BlockKind, BlockModel, HunyuanVideoTransformer3DModel, TransformerConfig,
    TransformerOptions, PRESETS,
};
use hyv_models::EXAMPLE_NAMES;
use hyv_runtime::{compile, CompileOptions, DeviceTensor, ParamMap, PipelineOptions};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Arguments of `hyv bench`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Columns: threads the backend computes on; ops in the traced graph (inputs and parameters \
excluded); kernel launches of one forward (eager: every op executed; graph: what the compiled \
executable reports); median, min and max of the timed forwards in ms (host inputs in, host \
outputs out); GFLOP/s from the traced graph's matmul, linear, conv and attention FLOPs over \
the median; the executable's planned activation peak in MiB ('-' where the backend does not \
plan one); ratio = the first row's median / this row's (above 1: faster than the first row).

Example: hyv bench --model small --block double --backend reference,cpu --threads 2 \
--json bench.json")]
pub struct BenchArgs {
    /// What to time: a DiT preset (hunyuan-video-13b, small, tiny) on its default input
    /// unless sizes are given, or a built-in example (mlp, attention) on its fixed input.
    #[arg(long, value_name = "NAME", default_value = "small")]
    pub model: String,
    /// Time one block of the DiT preset instead of the whole model: `double` (a dual-stream
    /// `transformer_blocks` block) or `single` (a `single_transformer_blocks` block), fed
    /// the tokens the model's blocks see for the given video size.
    #[arg(long, value_name = "KIND")]
    pub block: Option<String>,
    /// Video height in pixels (a multiple of 16: the latent is 8× smaller, then patched).
    /// Default: the preset's input (small 256×256×17, tiny 128×128×1, 13B 544×960×129).
    #[arg(long, requires = "width")]
    pub height: Option<usize>,
    /// Video width in pixels (a multiple of 16).
    #[arg(long, requires = "height")]
    pub width: Option<usize>,
    /// Video frames (4k+1; the latent has (frames-1)/4+1).
    #[arg(long)]
    pub frames: Option<usize>,
    /// Batch size.
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Text tokens (default: the preset's, 64 for small, 12 for tiny, 256 for the 13B).
    #[arg(long)]
    pub text_len: Option<usize>,
    /// Backends to time, repeatable or comma-separated: reference, reference-primitives,
    /// cpu, cuda[:N]. Rows come in the order given; the first row is the ratio column's baseline.
    #[arg(long, value_delimiter = ',', default_value = "cpu")]
    pub backend: Vec<String>,
    /// Modes to time, comma-separated: eager (op by op, like PyTorch eager) and/or graph
    /// (traced, optimised and compiled once, like GRAPH_MODE).
    #[arg(long, value_delimiter = ',', default_value = "eager,graph")]
    pub mode: Vec<Mode>,
    /// Parameter and activation dtype of the DiT (f32, bf16, f16); the examples are f32.
    #[arg(long, default_value = "f32")]
    pub dtype: DType,
    /// Worker threads of the cpu backend (default: one per core). The reference backend
    /// is single-threaded.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Untimed forwards before the timed ones (graph mode compiles before these).
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// Timed forwards; the table shows their median, minimum and maximum.
    #[arg(long, default_value_t = 5)]
    pub iters: usize,
    /// Seed of the random weights and inputs.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also write the configuration and every row (with each iteration's time) as JSON
    /// to FILE, atomically.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// What is timed: the model and its inputs.
struct Workload {
    /// `small`, `small double block`, `mlp`, ...
    what: String,
    model: Rc<dyn Model>,
    inputs: Vec<(String, HostTensor)>,
}

/// What timing one backend in one mode measured.
struct Measured {
    /// Kernel launches of one forward.
    launches: usize,
    /// Timed iterations, in milliseconds.
    times_ms: Vec<f64>,
    /// The executable's planned activation peak, when the backend reports one.
    peak_bytes: Option<u64>,
}

/// One line of the table.
struct Row {
    backend: String,
    mode: Mode,
    threads: usize,
    measured: Measured,
}

impl Row {
    fn median(&self) -> f64 {
        let mut t = self.measured.times_ms.clone();
        t.sort_by(f64::total_cmp);
        let n = t.len();
        if n % 2 == 1 {
            t[n / 2]
        } else {
            (t[n / 2 - 1] + t[n / 2]) / 2.0
        }
    }

    fn min(&self) -> f64 {
        let t = &self.measured.times_ms;
        t.iter().copied().fold(f64::INFINITY, f64::min)
    }

    fn max(&self) -> f64 {
        let t = &self.measured.times_ms;
        t.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }
}

/// Runs `hyv bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    if args.iters == 0 {
        bail!("--iters must be at least 1");
    }
    if args.backend.is_empty() || args.mode.is_empty() {
        bail!(
            "give at least one --backend ({}) and one --mode (eager, graph)",
            BACKEND_NAMES.join(", ")
        );
    }
    // Every backend is made before anything runs, so a bad name fails at once.
    let backends = args
        .backend
        .iter()
        .map(|name| backend_with_threads(name, args.threads.unwrap_or(0)))
        .collect::<Result<Vec<_>>>()?;
    let workload = workload(&args)?;
    println!("hyv bench: {} ({})", workload.what, args.dtype);
    for (name, value) in &workload.inputs {
        println!("  input {name}: {}", value.ty());
    }
    let types: Vec<(String, TensorType)> = workload
        .inputs
        .iter()
        .map(|(n, v)| (n.clone(), v.ty().clone()))
        .collect();
    let traced = trace(
        &*workload.model,
        &Weights::Random { seed: args.seed },
        &types,
    )
    .with_context(|| format!("tracing {}", workload.what))?;
    let flops = hyv_ir::flops(&traced.graph);
    let ops = op_count(&traced.graph);
    println!(
        "  {:.3} GFLOP per forward (matmul, linear, conv, attention), {ops} ops traced",
        flops as f64 / 1e9
    );
    // The random weights, generated once so that no timed forward generates them.
    let values = traced.params.values()?;
    println!(
        "  {} parameters, warm-up {}, {} timed iterations",
        values.values().map(|t| t.ty().shape.numel()).sum::<usize>(),
        args.warmup,
        args.iters
    );

    let mut rows = Vec::new();
    for (name, (backend, threads)) in args.backend.iter().zip(&backends) {
        for &mode in &args.mode {
            let label = format!("{name} {mode}");
            let measured = match mode {
                Mode::Eager => time_eager(&args, &workload, &values, backend, &label)?,
                Mode::Graph => {
                    let graph = &traced.graph;
                    time_graph(&args, &workload, graph, &values, backend, *threads, &label)?
                }
            };
            rows.push(Row {
                backend: name.clone(),
                mode,
                threads: *threads,
                measured,
            });
        }
    }
    print!("{}", table(&rows, &args, ops, flops));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&to_json(&args, &workload, &rows, ops, flops))?;
        hyv_ir::write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The model and random inputs `args` describe.
fn workload(args: &BenchArgs) -> Result<Workload> {
    let name = args.model.as_str();
    if EXAMPLE_NAMES.contains(&name) {
        let sized = args.height.is_some() || args.frames.is_some() || args.text_len.is_some();
        if args.block.is_some() || sized || args.batch != 1 || args.dtype != DType::F32 {
            bail!(
                "example `{name}` runs on its fixed f32 input: --block, --height, --width, \
                 --frames, --text-len, --batch and --dtype apply to the DiT presets ({})",
                PRESETS.join(", ")
            );
        }
        let example = hyv_models::example(name)?;
        let inputs = example.sample_inputs(args.seed);
        return Ok(Workload {
            what: format!("example {name}"),
            model: Rc::from(example.model),
            inputs,
        });
    }
    if !PRESETS.contains(&name) {
        bail!(
            "unknown model `{name}` (DiT presets: {}; examples: {})",
            PRESETS.join(", "),
            EXAMPLE_NAMES.join(", ")
        );
    }
    let config = TransformerConfig::preset(name)?;
    let (latent, default_text) = TransformerConfig::preset_input(name)?;
    let latent = latent_size(args, latent)?;
    let text_len = args.text_len.unwrap_or(default_text);
    if args.batch == 0 || text_len == 0 {
        bail!("--batch and --text-len must be at least 1");
    }
    let (f, h, w) = latent;
    let video = format!(
        "video {}×{}×{} (latent {f}×{h}×{w}), batch {}, {text_len} text tokens",
        h * 8,
        w * 8,
        (f - 1) * 4 + 1,
        args.batch
    );
    let seed = args.seed;
    match &args.block {
        Some(kind) => {
            let kind = BlockKind::from_name(kind)?;
            let model = BlockModel::new(config, kind, args.dtype)?;
            let inputs = model
                .input_types(args.batch, latent, text_len)
                .into_iter()
                .enumerate()
                .map(|(i, (n, ty))| {
                    let value = randn_host(&ty, seed + i as u64, 1.0);
                    (n, value)
                })
                .collect();
            Ok(Workload {
                what: format!("{name} {} block, {video}", block_name(kind)),
                model: Rc::new(model),
                inputs,
            })
        }
        None => {
            let types = input_types(&config, args.dtype, args.batch, f, h, w, text_len);
            let model = HunyuanVideoTransformer3DModel::new(
                config,
                TransformerOptions {
                    dtype: args.dtype,
                    intermediates: false,
                },
            )?;
            let inputs = types
                .into_iter()
                .enumerate()
                .map(|(i, (n, ty))| {
                    let value = match n.as_str() {
                        // Mid-schedule timestep, every text token valid, guidance 6.0.
                        "timestep" => HostTensor::full(&ty, 500.0),
                        "encoder_attention_mask" => HostTensor::full(&ty, 1.0),
                        "guidance" => HostTensor::full(&ty, 6000.0),
                        _ => randn_host(&ty, seed + i as u64, 1.0),
                    };
                    (n, value)
                })
                .collect();
            Ok(Workload {
                what: format!("{name} transformer, {video}"),
                model: Rc::new(model),
                inputs,
            })
        }
    }
}

fn block_name(kind: BlockKind) -> &'static str {
    match kind {
        BlockKind::Double => "double-stream",
        BlockKind::Single => "single-stream",
    }
}

/// The latent `(frames, height, width)` of `--height --width --frames`, or the preset's.
fn latent_size(args: &BenchArgs, preset: (usize, usize, usize)) -> Result<(usize, usize, usize)> {
    let (mut frames, mut height, mut width) = preset;
    if let (Some(h), Some(w)) = (args.height, args.width) {
        if h == 0 || w == 0 || h % 16 != 0 || w % 16 != 0 {
            bail!(
                "--height {h} and --width {w} must be positive multiples of 16 (VAE ×8, patch ×2)"
            );
        }
        (height, width) = (h / 8, w / 8);
    }
    if let Some(f) = args.frames {
        if f == 0 || (f - 1) % 4 != 0 {
            bail!("--frames {f} must be 4k+1 (the causal VAE keeps frame 0 and compresses 4×)");
        }
        frames = (f - 1) / 4 + 1;
    }
    Ok((frames, height, width))
}

/// The ops of a traced graph: every node but its inputs and parameters.
fn op_count(graph: &Graph) -> usize {
    graph
        .nodes()
        .iter()
        .filter(|n| !matches!(n.op, Op::Input { .. } | Op::Parameter { .. }))
        .count()
}

/// A backend that counts the ops eager mode executes on it.
struct Counting {
    inner: Arc<dyn Backend>,
    executed: AtomicUsize,
}

impl Backend for Counting {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn upload(&self, tensor: &HostTensor) -> hyv_runtime::Result<DeviceTensor> {
        self.inner.upload(tensor)
    }
    fn download(&self, tensor: &DeviceTensor) -> hyv_runtime::Result<HostTensor> {
        self.inner.download(tensor)
    }
    fn execute(
        &self,
        op: &Op,
        out: &TensorType,
        inputs: &[&DeviceTensor],
        path: &str,
    ) -> hyv_runtime::Result<DeviceTensor> {
        self.executed.fetch_add(1, Ordering::Relaxed);
        self.inner.execute(op, out, inputs, path)
    }
    fn claims_composite(&self, op: &Op) -> bool {
        self.inner.claims_composite(op)
    }
    fn compile(
        &self,
        graph: &Graph,
        options: &CompileOptions,
    ) -> hyv_runtime::Result<Box<dyn hyv_runtime::Executable>> {
        self.inner.compile(graph, options)
    }
}

/// Times `forward` `args.iters` times after `args.warmup` untimed calls, with a progress bar.
fn time_iterations(
    args: &BenchArgs,
    label: &str,
    mut forward: impl FnMut() -> Result<()>,
) -> Result<Vec<f64>> {
    let bar = progress::bar(args.warmup + args.iters, label);
    bar.set_message("warm-up");
    for _ in 0..args.warmup {
        forward()?;
        bar.inc(1);
    }
    bar.set_message("timed");
    let mut times = Vec::with_capacity(args.iters);
    for _ in 0..args.iters {
        let start = Instant::now();
        forward()?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(times)
}

/// Eager mode: every op dispatched as the model code calls it.
fn time_eager(
    args: &BenchArgs,
    workload: &Workload,
    values: &BTreeMap<String, HostTensor>,
    backend: &Arc<dyn Backend>,
    label: &str,
) -> Result<Measured> {
    let counting = Arc::new(Counting {
        inner: backend.clone(),
        executed: AtomicUsize::new(0),
    });
    let session = Session::new(
        Runner::new(Mode::Eager, counting.clone()),
        workload.model.clone(),
        Weights::Loaded(Rc::new(values.clone())),
    );
    let mut launches = 0;
    let times = time_iterations(args, label, || {
        let before = counting.executed.load(Ordering::Relaxed);
        session
            .run(&workload.inputs)
            .with_context(|| format!("{label}: running {}", workload.what))?;
        launches = counting.executed.load(Ordering::Relaxed) - before;
        Ok(())
    })?;
    Ok(Measured {
        launches,
        times_ms: times,
        peak_bytes: None,
    })
}

/// Graph mode: the traced graph compiled once, then its executable run.
fn time_graph(
    args: &BenchArgs,
    workload: &Workload,
    graph: &Graph,
    values: &BTreeMap<String, HostTensor>,
    backend: &Arc<dyn Backend>,
    threads: usize,
    label: &str,
) -> Result<Measured> {
    let pipeline = PipelineOptions {
        compile: CompileOptions { threads },
        ..Default::default()
    };
    let compiled = compile(graph, backend, &pipeline)
        .with_context(|| format!("{label}: compiling {}", workload.what))?;
    let mut params = ParamMap::new();
    for (name, value) in values {
        params.insert(name.clone(), backend.upload(value)?);
    }
    // Inputs in the compiled graph's order (passes may drop unused ones).
    let feeds = compiled
        .graph
        .input_names()
        .into_iter()
        .map(|name| {
            workload
                .inputs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, value)| value)
                .with_context(|| format!("the compiled graph wants input `{name}`"))
        })
        .collect::<Result<Vec<_>>>()?;
    let exe = &compiled.executable;
    let times = time_iterations(args, label, || {
        let inputs = feeds
            .iter()
            .map(|v| backend.upload(v))
            .collect::<hyv_runtime::Result<Vec<_>>>()?;
        for out in exe.run(&inputs, &params)? {
            backend.download(&out)?;
        }
        Ok(())
    })?;
    Ok(Measured {
        launches: exe
            .kernel_launches()
            .unwrap_or_else(|| op_count(&compiled.graph)),
        times_ms: times,
        peak_bytes: exe.planned_peak_bytes(),
    })
}

const MIB: f64 = 1024.0 * 1024.0;

/// The results table: one line per row, ratio = first row's median / this row's.
fn table(rows: &[Row], args: &BenchArgs, ops: usize, flops: u64) -> String {
    let mut s = format!(
        "{:<20} {:<5} {:<5} {:>7} {:>6} {:>8} {:>10} {:>10} {:>10} {:>8} {:>8} {:>6}\n",
        "backend",
        "mode",
        "dtype",
        "threads",
        "ops",
        "launches",
        "median ms",
        "min ms",
        "max ms",
        "GFLOP/s",
        "peak MiB",
        "ratio"
    );
    let base = rows.first().map(Row::median).unwrap_or(1.0);
    for r in rows {
        let median = r.median();
        let peak = r
            .measured
            .peak_bytes
            .map_or("-".to_string(), |b| format!("{:.1}", b as f64 / MIB));
        s += &format!(
            "{:<20} {:<5} {:<5} {:>7} {:>6} {:>8} {:>10.2} {:>10.2} {:>10.2} {:>8.2} {:>8} {:>6.2}\n",
            r.backend,
            r.mode.to_string(),
            args.dtype.to_string(),
            r.threads,
            ops,
            r.measured.launches,
            median,
            r.min(),
            r.max(),
            flops as f64 / (median * 1e6),
            peak,
            base / median
        );
    }
    s
}

/// The JSON report: configuration, input shapes and every row.
fn to_json(
    args: &BenchArgs,
    workload: &Workload,
    rows: &[Row],
    ops: usize,
    flops: u64,
) -> serde_json::Value {
    let base = rows.first().map(Row::median).unwrap_or(1.0);
    let inputs: Vec<_> = workload
        .inputs
        .iter()
        .map(|(n, v)| json!({"name": n, "dtype": v.ty().dtype.to_string(), "shape": v.ty().shape.dims()}))
        .collect();
    let rows: Vec<_> = rows
        .iter()
        .map(|r| {
            let median = r.median();
            json!({
                "backend": r.backend,
                "mode": r.mode.to_string(),
                "dtype": args.dtype.to_string(),
                "threads": r.threads,
                "ops": ops,
                "launches": r.measured.launches,
                "median_ms": median,
                "min_ms": r.min(),
                "max_ms": r.max(),
                "gflops": flops as f64 / (median * 1e6),
                "peak_mib": r.measured.peak_bytes.map(|b| b as f64 / MIB),
                "ratio": base / median,
                "times_ms": r.measured.times_ms,
            })
        })
        .collect();
    json!({
        "tool": "hyv",
        "model": args.model,
        "block": args.block,
        "workload": workload.what,
        "dtype": args.dtype.to_string(),
        "warmup": args.warmup,
        "iters": args.iters,
        "seed": args.seed,
        "flops": flops,
        "inputs": inputs,
        "rows": rows,
    })
}
