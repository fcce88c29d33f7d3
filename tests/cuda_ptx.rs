//! The CUDA backend's kernels for real models, compiled to PTX with NVRTC (no GPU needed):
//! the graph-mode fused kernels of the tiny and small DiT (a double block, a single block
//! and the whole model) and of the tiny VAE decoder, the one-op eager kernels of every
//! op they contain (composites as their fused decompositions, convolutions with their
//! im2col kernels), and the attention kernels;
//! every op of their traced graphs (eager mode) and every unfused node of their graph-mode
//! graphs must have a CUDA kernel. Each PTX must
//! target sm_90 and define its kernel's entry point. Without NVRTC the test prints a loud
//! skip line, or fails when `HYV_REQUIRE_NVRTC=1` (`make unit` sets it).
#![cfg(feature = "cuda")]

use hyv_backend_cpu::CpuBackend;
use hyv_backend_cuda::codegen::{
    attention_kernel, eager_kernel, gather_kernel, graph_kernels, im2col_kernel, AttentionSpec,
    KernelSource,
};
use hyv_backend_cuda::composite_graph;
use hyv_backend_cuda::nvrtc::{nvrtc_version, NvrtcOptions};
use hyv_backend_cuda::testing::{compile_all, nvrtc_for_test};
use hyv_frontend::{trace, Backend, HostTensor, Model, TensorType, Weights};
use hyv_ir::{DType, Graph, Op};
use hyv_models::hunyuan_vae::{HunyuanVideoVaeDecoder, VaeConfig, VaeOptions};
use hyv_models::hunyuan_video::{
    input_types, BlockKind, BlockModel, HunyuanVideoTransformer3DModel, TransformerConfig,
    TransformerOptions,
};
use hyv_runtime::{
    compile as compile_graph, CompileOptions, DeviceTensor, Executable, ParamMap, PipelineOptions,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The CUDA backend's graph-mode pipeline without a GPU: its composite claims and fusion,
/// constant folding on the CPU backend; `compile` only hands back the optimised graph.
struct CudaPipeline(CpuBackend);

/// An executable that is never run (the test needs the optimised graph only).
struct NotRun;

impl Executable for NotRun {
    fn run(&self, _: &[DeviceTensor], _: &ParamMap) -> hyv_runtime::Result<Vec<DeviceTensor>> {
        unreachable!("the PTX test never runs a graph")
    }
}

impl Backend for CudaPipeline {
    fn name(&self) -> &'static str {
        "cuda"
    }
    fn upload(&self, t: &HostTensor) -> hyv_runtime::Result<DeviceTensor> {
        self.0.upload(t)
    }
    fn download(&self, t: &DeviceTensor) -> hyv_runtime::Result<HostTensor> {
        self.0.download(t)
    }
    fn execute(
        &self,
        op: &Op,
        out: &TensorType,
        inputs: &[&DeviceTensor],
        path: &str,
    ) -> hyv_runtime::Result<DeviceTensor> {
        self.0.execute(op, out, inputs, path)
    }
    fn claims_composite(&self, op: &Op) -> bool {
        hyv_backend_cuda::claims_composite(op)
    }
    fn fuses(&self) -> bool {
        true
    }
    fn compile(&self, _: &Graph, _: &CompileOptions) -> hyv_runtime::Result<Box<dyn Executable>> {
        Ok(Box::new(NotRun))
    }
}

/// The traced graph of `model` on `inputs` (shapes only) and its optimised graph.
fn graphs(model: &dyn Model, inputs: &[(String, TensorType)]) -> (Graph, Graph) {
    let traced = trace(model, &Weights::ShapesOnly, inputs).unwrap().graph;
    let backend: Arc<dyn Backend> = Arc::new(CudaPipeline(CpuBackend::new()));
    let optimised = compile_graph(&traced, &backend, &PipelineOptions::default())
        .unwrap()
        .graph;
    (traced, optimised)
}

/// A model to trace: its description, the model and its named input types.
type Traceable = (String, Box<dyn Model>, Vec<(String, TensorType)>);

/// The models: the tiny and small DiT (blocks and whole model) and the tiny VAE decoder.
fn models() -> Vec<Traceable> {
    let mut out: Vec<Traceable> = Vec::new();
    for preset in ["tiny", "small"] {
        let config = TransformerConfig::preset(preset).unwrap();
        let ((f, h, w), text) = TransformerConfig::preset_input(preset).unwrap();
        for kind in [BlockKind::Double, BlockKind::Single] {
            let block = BlockModel::new(config.clone(), kind, DType::F32).unwrap();
            let types = block.input_types(1, (f, h, w), text);
            out.push((format!("{preset} {kind:?} block"), Box::new(block), types));
        }
        let model = HunyuanVideoTransformer3DModel::new(
            config.clone(),
            TransformerOptions {
                dtype: DType::F32,
                intermediates: false,
            },
        )
        .unwrap();
        let types = input_types(&config, DType::F32, 1, f, h, w, text);
        out.push((format!("{preset} transformer"), Box::new(model), types));
    }
    let vae = HunyuanVideoVaeDecoder::new(
        VaeConfig::preset("tiny").unwrap(),
        VaeOptions { dtype: DType::F32 },
    )
    .unwrap();
    let types = vae.input_types(1, [2, 8, 8]);
    out.push(("tiny VAE decoder".into(), Box::new(vae), types));
    out
}

/// The one-op eager kernels of `graph`'s nodes, and the attention kernels its attention
/// nodes need, into `kernels` by name.
fn node_kernels(graph: &Graph, kernels: &mut BTreeMap<String, KernelSource>) {
    for node in graph.nodes() {
        let types: Vec<TensorType> = node.inputs.iter().map(|&i| graph.ty(i).clone()).collect();
        let kernel = match &node.op {
            Op::Attention { .. } => {
                let (dtype, dims) = (types[0].dtype, types[0].shape.dims());
                attention_kernel(
                    AttentionSpec {
                        dtype,
                        head_dim: dims[3],
                    },
                    dims[0] * dims[1],
                    dims[2],
                )
            }
            op @ Op::Conv { .. } => im2col_kernel(op, &types[0], &types[1], &node.ty),
            op @ Op::Gather { .. } => gather_kernel(op, &node.ty, &types[0], &types[1]),
            op if op.is_composite() => {
                // Eager mode runs a composite as its fused decomposition.
                let g = composite_graph(op, &node.ty, &types).unwrap();
                for k in graph_kernels(&g) {
                    kernels.entry(k.name.clone()).or_insert(k);
                }
                node_kernels(&g, kernels);
                None
            }
            op => eager_kernel(op, &node.ty, &types),
        };
        if let Some(k) = kernel {
            kernels.entry(k.name.clone()).or_insert(k);
        }
    }
}

#[test]
fn every_model_kernel_compiles_to_ptx() {
    let mut fused = BTreeMap::new();
    let mut eager = BTreeMap::new();
    for (what, model, inputs) in models() {
        let (traced, optimised) = graphs(&*model, &inputs);
        // Graph mode has a CUDA kernel for every node the fusion groups leave.
        let missing = hyv_backend_cuda::missing_kernels(&optimised);
        assert!(missing.is_empty(), "{what}: no CUDA kernel for {missing:?}");
        let groups = graph_kernels(&optimised);
        assert!(!groups.is_empty(), "{what}: no fused kernels");
        println!("{what}: {} fused kernels", groups.len());
        for k in groups {
            fused.entry(k.name.clone()).or_insert(k);
        }
        // Eager mode runs the traced ops; graph mode runs the unfused nodes of the
        // optimised graph on the same one-op kernels.
        let missing = hyv_backend_cuda::missing_eager_kernels(&traced);
        assert!(
            missing.is_empty(),
            "{what}: no eager CUDA kernel for {missing:?}"
        );
        node_kernels(&traced, &mut eager);
        node_kernels(&optimised, &mut eager);
    }
    for dtype in [DType::F32, DType::F16, DType::BF16] {
        for head_dim in [64, 128] {
            let k = attention_kernel(AttentionSpec { dtype, head_dim }, 1, 1).unwrap();
            eager.entry(k.name.clone()).or_insert(k);
        }
    }
    let kernels: Vec<KernelSource> = fused.values().chain(eager.values()).cloned().collect();
    if !nvrtc_for_test("every_model_kernel_compiles_to_ptx") {
        return;
    }
    let (major, minor) = nvrtc_version().unwrap();
    let options = NvrtcOptions {
        arch: "sm_90".into(),
    };
    let versions = compile_all(&kernels, &options).unwrap_or_else(|failures| {
        panic!(
            "{} kernels failed:\n{}",
            failures.len(),
            failures.join("\n")
        )
    });
    println!(
        "compiled {} kernels to sm_90 PTX ({versions:?}) with NVRTC {major}.{minor}: {} fused, {} eager and attention",
        kernels.len(),
        fused.len(),
        eager.len()
    );
}
